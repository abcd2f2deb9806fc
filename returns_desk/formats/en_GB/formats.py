# British warehouses read the 24-hour clock; Django's en_GB says "2:30 p.m.". Dates stay Django's.
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
