"""TODO: being written."""

from .base import Resource


class EventDefinitions(Resource):
    pass
