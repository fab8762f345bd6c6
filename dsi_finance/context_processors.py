"""What every page's shell needs: the menu and the user's roles."""

from .menu import menu_for
from .roles import user_roles


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"menu": [], "user_roles": []}
    return {"menu": menu_for(user, request.path), "user_roles": user_roles(user)}
