"""TODO: being written."""

from .base import Resource


class ProjectSecretApiKeys(Resource):
    pass
