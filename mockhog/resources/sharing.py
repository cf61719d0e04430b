"""TODO: being written."""

from .base import Resource


class InsightSharing(Resource):
    pass


class SessionRecordingSharing(Resource):
    pass


class DashboardSharing(Resource):
    pass
