"""TODO: being written."""

from .base import Resource


class Groups(Resource):
    pass
