"""TODO: being written."""

from .base import Resource


class PersistedFolder(Resource):
    pass
