import os
import sys

from django.core.wsgi import get_wsgi_application

from viztube.checks import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "viztube.settings")
application = get_wsgi_application()
require_secret_key()

from viztube import periodic  # noqa: E402  (needs the settings loaded above)

# Without a broker the periodic tasks run in the web processes: gunicorn preloads this module in
# its master and starts them in each worker after the fork (gunicorn.conf.py); any other server
# (the development server) starts them here.
if "gunicorn" not in sys.modules:
    periodic.start_in_process()
