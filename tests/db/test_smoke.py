from db.models import User


def test_user_roundtrip(database, make_user):
    uid = make_user("a@example.com")
    with database.user_session(uid) as s:
        assert s.get(User, uid).email == "a@example.com"
