"""Default time windows of the story layer, in a module of constants only.

The CLI shows them as option defaults, and a module of constants costs it nothing to import, where the modules
that use them (``originality``: its patterns are compiled at import) would cost every command start-up.
"""

# Outlet originality shares look at this many days by default: a month of a daily paper is a few hundred
# articles, enough for a share to mean something, and recent enough to follow a change of habits.
ORIGINALITY_DAYS = 30
