"""TODO: being written."""

from .base import Resource


class MaxTools(Resource):
    pass
