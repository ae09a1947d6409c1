"""The model files speechqa ships (installed as the package ``speechqa.model_files``).

The folder stays at the top of the repository, where people look for models; pyproject.toml
maps it into the installed package, so a wheel carries the models and nothing is fetched at
run time. Each model has its own folder with a model card.
"""
