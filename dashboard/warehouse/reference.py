"""Reference data of the synthetic bank: the vocabularies every layer agrees on.

Kept in one place so the generator, the gold definitions, the tests and the views
(ordering, colours, coordinates) never disagree about a label.
"""
from __future__ import annotations

SEGMENTS = ("Premium", "Affluent", "Mass Market", "Business")
SEGMENT_SHARE = (0.10, 0.22, 0.55, 0.13)

# (label, lowest age, highest age)
AGE_GROUPS = (
    ("18-24", 18, 24), ("25-34", 25, 34), ("35-44", 35, 44),
    ("45-54", 45, 54), ("55-64", 55, 64), ("65+", 65, 90),
)
AGE_GROUP_LABELS = tuple(a[0] for a in AGE_GROUPS)

# (label, annual income lower bound in USD)
INCOME_BRACKETS = (("Low", 0), ("Medium", 40_000), ("High", 90_000), ("Very High", 200_000))
INCOME_BRACKET_LABELS = tuple(b[0] for b in INCOME_BRACKETS)

# FICO-style bands: (label, lowest score)
CREDIT_BANDS = (("Poor", 300), ("Fair", 580), ("Good", 670), ("Very Good", 740), ("Excellent", 800))
CREDIT_BAND_LABELS = tuple(b[0] for b in CREDIT_BANDS)

CHANNELS = ("ATM", "Online", "Branch", "POS", "Mobile")

# category -> (category group, log-normal median amount USD, sigma)
MERCHANT_CATEGORIES = {
    "Grocery": ("Essential Services", 62.0, 0.65),
    "Gas Station": ("Essential Services", 45.0, 0.45),
    "Utilities": ("Essential Services", 130.0, 0.50),
    "Restaurant": ("Essential Services", 38.0, 0.70),
    "Retail": ("Retail", 75.0, 0.95),
    "Online Shopping": ("Retail", 58.0, 0.95),
    "Entertainment": ("Lifestyle", 42.0, 0.80),
    "Travel": ("Lifestyle", 380.0, 0.95),
    "Healthcare": ("Professional Services", 140.0, 1.00),
    "Services": ("Professional Services", 110.0, 0.95),
}
CATEGORIES = tuple(MERCHANT_CATEGORIES)
CATEGORY_GROUPS = ("Essential Services", "Retail", "Lifestyle", "Professional Services")

# product -> (product category, balance sign: +1 asset held by the customer, -1 money owed)
PRODUCTS = {
    "Checking Account": ("DEPOSIT", 1),
    "Savings Account": ("DEPOSIT", 1),
    "Business Checking": ("DEPOSIT", 1),
    "Certificate of Deposit": ("DEPOSIT", 1),
    "Investment Account": ("INVESTMENT", 1),
    "Credit Card": ("CREDIT", -1),
    "Premium Credit Card": ("CREDIT", -1),
    "Mortgage": ("LOAN", -1),
    "Auto Loan": ("LOAN", -1),
    "Personal Loan": ("LOAN", -1),
}
PRODUCT_NAMES = tuple(PRODUCTS)

DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")  # 0 = Sunday
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
               "August", "September", "October", "November", "December")
SEASONS = {12: "Winter", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring", 5: "Spring",
           6: "Summer", 7: "Summer", 8: "Summer", 9: "Autumn", 10: "Autumn", 11: "Autumn"}

HIGH_VALUE_THRESHOLD = 1_000.0  # USD; a transaction at or above it is "high value"
WINDOW_DAYS = 90                # the "90d" window, ending on the warehouse's as-of date

REGIONS = ("Northeast", "Southeast", "Midwest", "Southwest", "West")
STATE_REGION = {
    **dict.fromkeys(("CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA", "DE", "MD", "DC"), "Northeast"),
    **dict.fromkeys(("VA", "WV", "NC", "SC", "GA", "FL", "KY", "TN", "AL", "MS", "AR", "LA"), "Southeast"),
    **dict.fromkeys(("OH", "IN", "IL", "MI", "WI", "MN", "IA", "MO", "ND", "SD", "NE", "KS"), "Midwest"),
    **dict.fromkeys(("TX", "OK", "NM", "AZ"), "Southwest"),
    **dict.fromkeys(("CO", "WY", "MT", "ID", "UT", "NV", "CA", "OR", "WA", "AK", "HI"), "West"),
}

# (city, state, population in thousands, latitude, longitude); weights for where customers live
CITIES = (
    ("NEW YORK", "NY", 8336, 40.71, -74.01), ("BUFFALO", "NY", 278, 42.89, -78.88),
    ("ROCHESTER", "NY", 211, 43.16, -77.61), ("LOS ANGELES", "CA", 3898, 34.05, -118.24),
    ("SAN DIEGO", "CA", 1386, 32.72, -117.16), ("SAN JOSE", "CA", 1013, 37.34, -121.89),
    ("SAN FRANCISCO", "CA", 815, 37.77, -122.42), ("SACRAMENTO", "CA", 525, 38.58, -121.49),
    ("FRESNO", "CA", 542, 36.74, -119.79), ("CHICAGO", "IL", 2746, 41.88, -87.63),
    ("SPRINGFIELD", "IL", 114, 39.78, -89.65), ("HOUSTON", "TX", 2304, 29.76, -95.37),
    ("SAN ANTONIO", "TX", 1434, 29.42, -98.49), ("DALLAS", "TX", 1304, 32.78, -96.80),
    ("AUSTIN", "TX", 961, 30.27, -97.74), ("FORT WORTH", "TX", 918, 32.76, -97.33),
    ("EL PASO", "TX", 678, 31.76, -106.49), ("PHOENIX", "AZ", 1608, 33.45, -112.07),
    ("TUCSON", "AZ", 542, 32.22, -110.97), ("MESA", "AZ", 504, 33.42, -111.83),
    ("PHILADELPHIA", "PA", 1603, 39.95, -75.17), ("PITTSBURGH", "PA", 302, 40.44, -79.99),
    ("JACKSONVILLE", "FL", 949, 30.33, -81.66), ("MIAMI", "FL", 442, 25.76, -80.19),
    ("TAMPA", "FL", 384, 27.95, -82.46), ("ORLANDO", "FL", 307, 28.54, -81.38),
    ("COLUMBUS", "OH", 905, 39.96, -83.00), ("CLEVELAND", "OH", 372, 41.50, -81.69),
    ("CINCINNATI", "OH", 309, 39.10, -84.51), ("CHARLOTTE", "NC", 874, 35.23, -80.84),
    ("RALEIGH", "NC", 467, 35.78, -78.64), ("INDIANAPOLIS", "IN", 887, 39.77, -86.16),
    ("SEATTLE", "WA", 737, 47.61, -122.33), ("SPOKANE", "WA", 228, 47.66, -117.43),
    ("DENVER", "CO", 715, 39.74, -104.99), ("COLORADO SPRINGS", "CO", 478, 38.83, -104.82),
    ("WASHINGTON", "DC", 689, 38.91, -77.04), ("BOSTON", "MA", 675, 42.36, -71.06),
    ("WORCESTER", "MA", 206, 42.26, -71.80), ("NASHVILLE", "TN", 689, 36.16, -86.78),
    ("MEMPHIS", "TN", 633, 35.15, -90.05), ("DETROIT", "MI", 639, 42.33, -83.05),
    ("GRAND RAPIDS", "MI", 198, 42.96, -85.67), ("OKLAHOMA CITY", "OK", 681, 35.47, -97.52),
    ("TULSA", "OK", 413, 36.15, -95.99), ("PORTLAND", "OR", 652, 45.52, -122.68),
    ("PORTLAND", "ME", 68, 43.66, -70.26), ("LAS VEGAS", "NV", 641, 36.17, -115.14),
    ("RENO", "NV", 264, 39.53, -119.81), ("LOUISVILLE", "KY", 633, 38.25, -85.76),
    ("BALTIMORE", "MD", 585, 39.29, -76.61), ("MILWAUKEE", "WI", 577, 43.04, -87.91),
    ("MADISON", "WI", 269, 43.07, -89.40), ("ALBUQUERQUE", "NM", 564, 35.08, -106.65),
    ("KANSAS CITY", "MO", 508, 39.10, -94.58), ("ST. LOUIS", "MO", 301, 38.63, -90.20),
    ("ATLANTA", "GA", 498, 33.75, -84.39), ("SAVANNAH", "GA", 147, 32.08, -81.09),
    ("OMAHA", "NE", 486, 41.26, -95.93), ("MINNEAPOLIS", "MN", 429, 44.98, -93.27),
    ("ST. PAUL", "MN", 311, 44.95, -93.09), ("NEW ORLEANS", "LA", 383, 29.95, -90.07),
    ("BATON ROUGE", "LA", 227, 30.45, -91.19), ("WICHITA", "KS", 397, 37.69, -97.34),
    ("VIRGINIA BEACH", "VA", 459, 36.85, -75.98), ("RICHMOND", "VA", 226, 37.54, -77.44),
    ("NEWARK", "NJ", 311, 40.74, -74.17), ("JERSEY CITY", "NJ", 292, 40.73, -74.08),
    ("HONOLULU", "HI", 350, 21.31, -157.86), ("ANCHORAGE", "AK", 291, 61.22, -149.90),
    ("BIRMINGHAM", "AL", 200, 33.52, -86.80), ("HUNTSVILLE", "AL", 215, 34.73, -86.59),
    ("SALT LAKE CITY", "UT", 200, 40.76, -111.89), ("BOISE", "ID", 236, 43.62, -116.20),
    ("DES MOINES", "IA", 214, 41.59, -93.62), ("LITTLE ROCK", "AR", 202, 34.75, -92.29),
    ("JACKSON", "MS", 150, 32.30, -90.18), ("CHARLESTON", "SC", 150, 32.78, -79.93),
    ("COLUMBIA", "SC", 136, 34.00, -81.03), ("PROVIDENCE", "RI", 190, 41.82, -71.41),
    ("HARTFORD", "CT", 121, 41.76, -72.68), ("BRIDGEPORT", "CT", 148, 41.19, -73.20),
    ("MANCHESTER", "NH", 115, 42.99, -71.46), ("BURLINGTON", "VT", 45, 44.48, -73.21),
    ("WILMINGTON", "DE", 71, 39.74, -75.55), ("CHARLESTON", "WV", 48, 38.35, -81.63),
    ("FARGO", "ND", 126, 46.88, -96.79), ("SIOUX FALLS", "SD", 196, 43.55, -96.73),
    ("BILLINGS", "MT", 117, 45.78, -108.50), ("CHEYENNE", "WY", 65, 41.14, -104.82),
)

STATE_CENTROIDS = {
    "AL": (32.8, -86.8), "AK": (64.7, -152.0), "AZ": (34.3, -111.7), "AR": (34.9, -92.4),
    "CA": (37.2, -119.5), "CO": (39.0, -105.5), "CT": (41.6, -72.7), "DE": (39.0, -75.5),
    "DC": (38.9, -77.0), "FL": (28.6, -82.4), "GA": (32.7, -83.4), "HI": (20.8, -156.3),
    "ID": (44.4, -114.6), "IL": (40.0, -89.2), "IN": (39.9, -86.3), "IA": (42.1, -93.5),
    "KS": (38.5, -98.4), "KY": (37.5, -85.3), "LA": (31.1, -92.0), "ME": (45.4, -69.2),
    "MD": (39.0, -76.8), "MA": (42.3, -71.8), "MI": (44.3, -85.4), "MN": (46.3, -94.3),
    "MS": (32.7, -89.7), "MO": (38.4, -92.5), "MT": (47.0, -109.6), "NE": (41.5, -99.8),
    "NV": (39.3, -116.6), "NH": (43.7, -71.6), "NJ": (40.2, -74.7), "NM": (34.4, -106.1),
    "NY": (42.9, -75.5), "NC": (35.6, -79.4), "ND": (47.5, -100.5), "OH": (40.3, -82.8),
    "OK": (35.6, -97.5), "OR": (43.9, -120.6), "PA": (40.9, -77.8), "RI": (41.7, -71.5),
    "SC": (33.9, -80.9), "SD": (44.4, -100.2), "TN": (35.9, -86.4), "TX": (31.5, -99.3),
    "UT": (39.3, -111.7), "VT": (44.1, -72.7), "VA": (37.5, -78.8), "WA": (47.4, -120.5),
    "WV": (38.6, -80.6), "WI": (44.6, -89.9), "WY": (43.0, -107.6),
}
