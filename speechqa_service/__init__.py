"""The composition root of the speechqa service, and the edge code the API and the pages share.

``speechqa_service.app`` builds the one application (the API with the web pages beside it) and
hands both the job queue; ``speechqa_service.processes`` starts the workers and ``speechqa
serve``'s processes for the CLI; ``speechqa_service.http`` holds what both HTTP edges answer
alike (the status of each core error, a recording as a ranged response). Only this package
imports several edges; importing it alone imports none.
"""
