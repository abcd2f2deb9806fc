from .roles import role_of


def desk(request):
    """What every page header shows: the station and the user's role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"station": request.station, "role": role_of(user)}
