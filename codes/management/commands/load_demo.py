from django.core.management.base import BaseCommand

from codes.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo code systems, codes and knowledge from fixtures/ (adds what is missing)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(str(load_demo()))
