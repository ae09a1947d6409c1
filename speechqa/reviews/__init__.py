"""Reviews: people scoring calls beside the automatic evaluation (drafts, answers, comments,
submission, disputes, the audit trail), review queues, calibration, and the machine's quality
as reviewers judge it."""
