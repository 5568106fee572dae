"""The eval datasets: their schemas, the validator, the near-duplicate rule, and the intake of decided drafts."""
