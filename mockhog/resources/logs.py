"""TODO: being written."""

from .base import Resource


class Logs(Resource):
    pass
