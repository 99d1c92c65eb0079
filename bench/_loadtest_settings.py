"""Production settings plus one URL: the minimal view every page's rate is compared with."""

from casepilot.settings import *  # noqa: F403

ROOT_URLCONF = "bench._loadtest_urls"
