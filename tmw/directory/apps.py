from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """The MSP directory: TMW's own profiles of MSPs, their contacts, CSV import and export. Ground floor."""

    name = "tmw.directory"
    label = "directory"
    verbose_name = "MSP directory"
