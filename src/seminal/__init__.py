"""seminal: scaled-down replications of six seminal language-model papers on GLUE-style tasks."""

__version__ = "0.1.0"
