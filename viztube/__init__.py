# The Celery application is loaded with Django, so that every app's tasks bind to it
# (Celery's Django set-up; the app itself is in viztube/celery.py).
from viztube.celery import app as celery_app

__all__ = ("celery_app",)
