"""provision: the boto3 provisioner of the Slurm Factory Spack buildcache's AWS infrastructure."""

# Kept equal to pyproject.toml's version by tests/test_cli_conventions.py; read here (not from
# importlib.metadata) so that reports pay nothing for it.
__version__ = "0.1.0"
