"""Merchants as card networks print them: descriptor templates with store numbers, order
references and phone numbers. Placeholders: {store} store number, {ref} order reference,
{city}/{st} location, {n9} nine digits. Amounts are (low, high) dollars for one purchase."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Merchant:
    descriptor: str
    merchant_name: str | None  # None where an aggregator would not recognise the merchant
    kind: str  # grocery, coffee, restaurant, gas, transit, shopping, pharmacy, fun, travel
    low: int
    high: int
    channel: str = "in store"  # Plaid payment_channel: "in store" | "online" | "other"
    weight: int = 10
    website: str | None = None
    tip: bool = False  # restaurants post a larger amount than the pending authorisation


COMMON: tuple[Merchant, ...] = (
    Merchant("WHOLEFDS {city3} {store}", "Whole Foods Market", "grocery", 18, 160, weight=14),
    Merchant("TRADER JOE S #{store}", "Trader Joe's", "grocery", 22, 120, weight=14),
    Merchant("COSTCO WHSE #{store}", "Costco", "grocery", 60, 340, weight=5),
    Merchant("TARGET        00{store}", "Target", "shopping", 12, 180, weight=8),
    Merchant("STARBUCKS STORE {store}", "Starbucks", "coffee", 4, 14, weight=16),
    Merchant("SQ *BLUE BOTTLE COFFEE", "Blue Bottle Coffee", "coffee", 5, 16, weight=6),
    Merchant("SQ *CORNER BAKEHOUSE", None, "coffee", 6, 24, weight=5),
    Merchant("TST* LUCKY DUMPLING", None, "restaurant", 24, 95, weight=6, tip=True),
    Merchant("CHIPOTLE {store}", "Chipotle Mexican Grill", "restaurant", 11, 32, weight=9),
    Merchant("MCDONALD'S F{store}", "McDonald's", "restaurant", 6, 19, weight=6),
    Merchant("SWEETGREEN {city}", "Sweetgreen", "restaurant", 13, 29, weight=6),
    Merchant("THE OLIVE TAVERN", None, "restaurant", 38, 160, weight=4, tip=True),
    Merchant("DOORDASH*{rest}", "DoorDash", "restaurant", 22, 78, "online", 7, "doordash.com"),
    Merchant("SHELL OIL {n9}", "Shell", "gas", 28, 74, weight=7),
    Merchant("CHEVRON {store}", "Chevron", "gas", 30, 80, weight=5),
    Merchant("UBER   *TRIP HELP.UBER.COM", "Uber", "transit", 9, 58, "online", 8, "uber.com"),
    Merchant("LYFT   *RIDE {dow} {hh}", "Lyft", "transit", 8, 46, "online", 5, "lyft.com"),
    Merchant(
        "AMZN Mktp US*{ref} Amzn.com/bill WA",
        "Amazon",
        "shopping",
        9,
        140,
        "online",
        14,
        "amazon.com",
    ),
    Merchant(
        "AMAZON.COM*{ref} AMZN.COM/BILL WA", "Amazon", "shopping", 12, 95, "online", 6, "amazon.com"
    ),
    Merchant("CVS/PHARMACY #{store}", "CVS Pharmacy", "pharmacy", 6, 64, weight=6),
    Merchant("WALGREENS #{store}", "Walgreens", "pharmacy", 5, 48, weight=5),
    Merchant("THE HOME DEPOT #{store}", "The Home Depot", "shopping", 14, 260, weight=4),
    Merchant("BEST BUY      00{store}", "Best Buy", "shopping", 19, 420, weight=2),
    Merchant("AMC {store} ONLINE", "AMC Theatres", "fun", 14, 48, "online", 2, "amctheatres.com"),
    Merchant("STEAMGAMES.COM 4259522985", "Steam", "fun", 5, 60, "online", 2),
    Merchant("ETSY.COM - {shop}", "Etsy", "shopping", 11, 85, "online", 2, "etsy.com"),
    Merchant("PARKMOBILE 877-727-5718", "ParkMobile", "transit", 2, 18, "online", 3),
)

REGIONAL: dict[str, tuple[Merchant, ...]] = {
    "CA": (
        Merchant("SAFEWAY #{store}", "Safeway", "grocery", 14, 130, weight=10),
        Merchant("CLIPPER SYSTEMS  CA", "Clipper", "transit", 10, 40, "online", 4),
        Merchant("PHILZ COFFEE {city}", "Philz Coffee", "coffee", 5, 15, weight=6),
    ),
    "IL": (
        Merchant("JEWEL OSCO {store}", "Jewel-Osco", "grocery", 14, 140, weight=10),
        Merchant("VENTRA WEB 877-669-8368 IL", "Ventra", "transit", 10, 50, "online", 4),
        Merchant("PORTILLO'S HOT DOGS {store}", "Portillo's", "restaurant", 9, 35, weight=5),
    ),
    "TX": (
        Merchant("H-E-B #{store}", "H-E-B", "grocery", 16, 170, weight=12),
        Merchant("TORCHYS TACOS {store}", "Torchy's Tacos", "restaurant", 9, 38, weight=6),
        Merchant("BUC-EE'S #{store}", "Buc-ee's", "gas", 30, 75, weight=3),
    ),
    "NY": (
        Merchant("MTA*NYCT PAYGO NEW YORK NY", "MTA", "transit", 3, 34, "in store", 9),
        Merchant("DUANE READE #{store}", "Duane Reade", "pharmacy", 5, 40, weight=5),
        Merchant("JOE'S PIZZA {city}", None, "restaurant", 4, 22, weight=6),
    ),
}

# Monthly card subscriptions: (descriptor, merchant_name, amount, day of month, website).
SUBSCRIPTIONS: tuple[tuple[str, str, str, int, str], ...] = (
    ("NETFLIX.COM 866-579-7172 CA", "Netflix", "15.49", 7, "netflix.com"),
    ("Spotify USA", "Spotify", "11.99", 12, "spotify.com"),
    ("APPLE.COM/BILL 866-712-7753 CA", "Apple", "2.99", 18, "apple.com"),
    ("NYTimes*Subscription NY", "The New York Times", "17.00", 3, "nytimes.com"),
    ("PLANET FITNESS CLUB 1174", "Planet Fitness", "24.99", 17, "planetfitness.com"),
    ("GOOGLE *YouTubePremium g.co/helppay#", "YouTube Premium", "13.99", 22, "youtube.com"),
    ("ADOBE  *CREATIVE CLD 408-536-6000 CA", "Adobe", "59.99", 25, "adobe.com"),
)

# Monthly utility bills paid by ACH from checking: (company, entry description, low, high, day).
UTILITIES: dict[str, tuple[tuple[str, str, int, int, int], ...]] = {
    "CA": (("PGANDE", "WEB ONLINE", 70, 210, 9), ("SF PUC WATER", "UTIL PMT", 40, 95, 14)),
    "IL": (
        ("COMMONWEALTH EDISON", "UTIL BILL", 55, 180, 10),
        ("PEOPLES GAS", "GAS BILL", 30, 190, 16),
    ),
    "TX": (("AUSTIN ENERGY", "UTIL PMT", 80, 290, 8), ("TEXAS GAS SERVICE", "AUTOPAY", 25, 90, 19)),
    "NY": (
        ("CON ED OF NY", "INTELL CK", 60, 220, 11),
        ("NATIONAL GRID NY", "UTILITYPAY", 25, 140, 21),
    ),
}
PHONE_AND_INTERNET: tuple[tuple[str, str, int, int, int], ...] = (
    ("COMCAST", "XFINITY", 79, 89, 4),
    ("VERIZON WIRELESS", "PAYMENTS", 85, 142, 23),
)

EMPLOYERS = (
    "NORTHWIND TRADERS",
    "GLOBEX CORP",
    "INITECH LLC",
    "ACME ROBOTICS INC",
    "UMBRELLA HLTH",
)
LANDLORDS = ("GREYSTAR PROPERTY", "EQUITY RESIDENTIAL", "AVALONBAY CMNTYS", "ESSEX PROPERTY TR")
FIRST_NAMES = ("ALEX", "JORDAN", "SAM", "TAYLOR", "MORGAN", "CASEY", "JAMIE", "RILEY")
LAST_NAMES = ("MORGAN", "RIVERA", "CHEN", "PATEL", "NGUYEN", "OKAFOR", "LINDQVIST", "GARCIA")

# Purchases abroad: (descriptor, merchant_name, currency, local low, local high, rate to USD).
FOREIGN: tuple[tuple[str, str | None, str, int, int, str], ...] = (
    ("PRET A MANGER LONDON GBR", "Pret A Manger", "GBP", 6, 18, "1.27"),
    ("TFL TRAVEL CH LONDON GBR", "Transport for London", "GBP", 3, 30, "1.27"),
    ("CAFE DE FLORE PARIS FRA", None, "EUR", 14, 70, "1.09"),
    ("SNCF INTERNET PARIS FRA", "SNCF", "EUR", 45, 140, "1.09"),
    ("OXXO TULUM QROO MEX", None, "MXN", 80, 900, "0.058"),
)

# Tiny charges from a card-testing fraud attempt.
CARD_TESTING = (
    "PAYPAL *DIGITALGDS 4029357733",
    "SQ *GIFT SHOP ONLINE",
    "WWW.DONATE-NOW.ORG 8885551212",
)

REST_NAMES = ("THAI BASIL", "BURGER BARN", "GOLDEN WOK", "PIZZA PALACE", "TACO LOCO")
SHOP_NAMES = ("WovenThreads", "PaperLeafCo", "ClayAndKiln")
