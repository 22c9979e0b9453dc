"""Repository: the only place with select()/commit(). Keyword-only verb_noun(*, session, ...)."""
