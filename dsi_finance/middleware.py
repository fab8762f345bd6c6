"""Project middleware."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired

# The JSON API authenticates by itself (token or session) and answers 401 to an
# anonymous caller instead of redirecting it to the login page.
API_PREFIXES = ("/api/v1/", "/api/schema/")


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's LoginRequiredMiddleware, except for the API, which answers 401 itself."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(API_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
