"""Pages of reporting, one module per family; reporting/urls.py gathers their urlpatterns."""
