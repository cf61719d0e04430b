"""TODO: being written."""

from .base import Resource


class FileSystem(Resource):
    pass
