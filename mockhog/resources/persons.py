"""TODO: being written."""

from .base import Resource


class Persons(Resource):
    pass
