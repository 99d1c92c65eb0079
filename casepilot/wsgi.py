import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casepilot.settings")
application = get_wsgi_application()

# A full garbage collection walks every object the collector tracks, and pauses the worker's
# requests while it does: ~60 ms for the ~75,000 objects that importing Django and the project
# leaves, which live as long as the worker does. Moved out of the collector's sight, they make
# the slowest requests (p99) no longer wait on it.
gc.freeze()
