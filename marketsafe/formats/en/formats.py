"""English date formats without abbreviation dots, on a 24-hour clock, naming the time zone: the parties of
a notice are in different countries, and "6:29 p.m." followed by a full stop reads "p.m..".

The rest comes from Django's own English formats.
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
