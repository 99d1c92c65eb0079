from django.core.management.base import BaseCommand

from careers.demo import load_demo_jobs
from codes.demo import load_demo


class Command(BaseCommand):
    help = (
        "Load the demo content from fixtures/ (adds what is missing): code systems, codes and "
        "knowledge, and CareerCenter's example jobs."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(str(load_demo()))
        self.stdout.write(load_demo_jobs())
