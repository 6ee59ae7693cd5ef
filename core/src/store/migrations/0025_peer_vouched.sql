-- 0025: desks paired through another desk (issue 16, "pairing passed on"). When a desk
-- pairs with a new desk by code it tells the others (a `paired` record); they pair with
-- it too, trusting the desk that vouches for it. Its certificate pin comes with the news:
-- kept here until the desk moves it into the OS keychain beside the pins it paired itself.
ALTER TABLE peer ADD COLUMN vouched_pin TEXT;
ALTER TABLE peer ADD COLUMN vouched_by TEXT;
