"""Reviews: people scoring calls beside the automatic evaluation (drafts, answers, comments,
submission, the audit trail); later calibration and disputes."""
