"""The eval suites: each measures one part of the copilot on a dataset and returns a SuiteResult."""
