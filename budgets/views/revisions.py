"""BP, DM1 and DM2: the list, the revision editor, submission and vote."""

urlpatterns = []
