"""URLs of the reporting pages (namespace "reporting"), mounted under /pilotage/.

Each module of reporting/views/ lists its own urlpatterns.
"""

app_name = "reporting"

urlpatterns: list = []
