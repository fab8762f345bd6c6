"""XLSX import of a BP or DM proposal (preview, then save) and XLSX export of any revision."""

urlpatterns = []
