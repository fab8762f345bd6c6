"""The demo's procurement: a year of purchasing by the IT department, through the services.

About forty suppliers of New Caledonia (and three in metropolitan France, invoicing in
euros); some 330 purchase requests planned over the year (drafts, submitted, rejected
with a reason, cancelled with a reason, approved, a few above the approval threshold
approved by the IT director, a few approved by the director over a short available
amount with a written reason), their orders (most sent), receipts (full and partial),
invoices (matched to the commitments, partial invoicing, corrections, a few in euros,
liquidations validated by the section head above the threshold, payments with realistic
delays, some late, mostly imported from the Finance Direction's weekly XLSX list, a few
entered by hand), recurring contracts (maintenance, telecom links, subscriptions,
hosting, electricity) invoiced monthly, direct invoices (travel, insurance, fees), and a
few commitments closed with their remainder released.

Everything goes through the procurement services, so that the ledger is real and
check_ledger agrees. The year is played in order of time: each event runs with the
services' clock (django.utils.timezone.now) set to its moment, so that the documents,
their history and their ledger entries carry the dates of a year of work; events after
now have not happened yet, which leaves the recent documents in their early states
(submitted, approved, ordered, partly received, entered…). Early in the year the demo
holds proportionally less.

A past year (dsi_finance.demo plays last year's, with fewer requests, before the budget
closes it) is played to its 31 December with its requests taking more of their lines
(PAST_REQUEST_SPEND) and its contracts billed by quarter (fewer events, the same money),
then its purchasing is closed as a closing leaves it (`_Player.year_end`): December's
contract invoices entered, every invoice liquidated, the requests never approved
cancelled, every commitment closed with its remainder released.

`procurement_plan()` draws the plan from the year's budget lines with a generator seeded
by the year (the same plan on every run); `seed_procurement()` plays it. Amounts are
sized on the lines' available amounts (budgets.selectors.line_availability): no line
goes below zero except where the IT director overrides, on lines kept for that.
"""

import heapq
import itertools
import math
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from unittest import mock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from budgets import services as budget_services
from budgets.models import BudgetLine, FiscalYear
from budgets.selectors import line_availability
from budgets.services import CreditsShortError
from dsi_finance.errors import ServiceError

from .models import Commitment, Invoice, PurchaseOrder, PurchaseRequest, Receipt, Supplier
from .services import commitments as commitment_services
from .services import invoices as invoice_services
from .services import orders as order_services
from .services import payments as payment_services
from .services import receipts as receipt_services
from .services import requests as request_services
from .services import suppliers as supplier_services

# --- Suppliers ---------------------------------------------------------------------------
# (key, name, RIDET, address, contact, payment terms in days, bank, trades)
# Trades say what a supplier sells: hardware, network, telecom, hosting, cloud, software,
# services, security, training, works, energy, supplies, maintenance, travel, insurance,
# documentation, fees. Metropolitan suppliers (currency EUR) bill in euros.

BANKS = {
    "BCI": ("17499", "Banque Calédonienne d'Investissement"),
    "BNC": ("14889", "Banque de Nouvelle-Calédonie"),
    "SGCB": ("18319", "Société Générale Calédonienne de Banque"),
    "BNPNC": ("17939", "BNP Paribas Nouvelle-Calédonie"),
}


@dataclass(frozen=True)
class DemoSupplier:
    key: str
    name: str
    ridet: str
    address: str
    contact: str
    terms: int
    bank: str
    trades: tuple[str, ...]
    currency: str = "XPF"


# fmt: off
SUPPLIERS = (
    DemoSupplier("reseaux", "Calédonie Réseaux Services", "1023457.001", "14 rue Jules Garnier\n98800 Nouméa", "Kévin Wayaridri", 30, "BCI", ("network", "works")),
    DemoSupplier("distrib", "Nouméa Informatique Distribution", "0876543.001", "27 rue de Sébastopol\n98800 Nouméa", "Sandrine Leconte", 30, "BNC", ("hardware", "supplies")),
    DemoSupplier("datacenter", "Pacific Data Center", "1187206.001", "ZI de Ducos, 8 rue Fernand Forest\n98800 Nouméa", "Thierry Gope", 45, "SGCB", ("hosting",)),
    DemoSupplier("lagon", "Lagon Télécom", "0954321.002", "3 avenue du Maréchal Foch\n98800 Nouméa", "Océane Tein", 30, "BCI", ("telecom",)),
    DemoSupplier("caillou", "Caillou Cloud", "1256980.001", "Immeuble Kariba, 7 bis rue Suffren\n98800 Nouméa", "Mathieu Ihage", 30, "BNPNC", ("cloud", "hosting")),
    DemoSupplier("cablage", "Sud Câblage", "1134578.001", "45 route de la Baie des Dames\n98800 Nouméa", "Jean-Marc Poithily", 45, "BNC", ("works", "network")),
    DemoSupplier("kone", "Koné Informatique Services", "1045671.001", "Lotissement Pouembout-Koné, lot 12\n98860 Koné", "Priscilla Poadja", 30, "BCI", ("hardware", "maintenance", "services")),
    DemoSupplier("loyaute", "Loyauté Numérique", "1298763.001", "Wé\n98820 Lifou", "Hnaisilin Wahmetu", 15, "BCI", ("services", "maintenance")),
    DemoSupplier("secours", "Païta Énergie Secours", "0998127.001", "ZAC Panda, 2 rue des Acacias\n98890 Païta", "Rodolphe Delathière", 45, "SGCB", ("energy", "works", "maintenance")),
    DemoSupplier("gtsecu", "Grande Terre Sécurité", "1176549.001", "12 rue du Docteur Guégan\n98800 Nouméa", "Laure Nékaré", 30, "BNPNC", ("security", "services")),
    DemoSupplier("bureautique", "Dumbéa Bureautique", "0912348.001", "Centre commercial Dumbéa Mall\n98835 Dumbéa", "Corinne Haudra", 30, "BNC", ("supplies", "hardware", "rental")),
    DemoSupplier("froid", "Mont-Dore Froid et Climatisation", "1067893.001", "RP1, Plum\n98809 Mont-Dore", "Patrick Tuilalo", 30, "BCI", ("maintenance", "works")),
    DemoSupplier("oceanie", "Océanie Logiciels", "1212120.001", "5 rue Georges Clemenceau\n98800 Nouméa", "Aurélie Kasovimoin", 30, "SGCB", ("software",)),
    DemoSupplier("neo", "Néo Conseil Numérique", "1309876.001", "Immeuble Le Centre, 15 rue d'Austerlitz\n98800 Nouméa", "Florent Goyetta", 30, "BNPNC", ("services",)),
    DemoSupplier("magenta", "Magenta Fournitures de Bureau", "0887766.001", "120 rue Auguste Bénébig\n98800 Nouméa", "Nadia Wamytan", 30, "BNC", ("supplies",)),
    DemoSupplier("ducos", "Ducos Matériel Pro", "1023999.002", "ZI de Ducos, 31 rue Jacques Iékawé\n98800 Nouméa", "Steeve Naouna", 30, "BCI", ("hardware", "network", "supplies")),
    DemoSupplier("ansevata", "Anse Vata Digital", "1345612.001", "139 promenade Roger Laroque\n98800 Nouméa", "Camille Ounou", 30, "SGCB", ("services", "software")),
    DemoSupplier("bourail", "Bourail Radio Liaisons", "1154321.001", "Route territoriale 1\n98870 Bourail", "Gaston Néaoutyine", 45, "BCI", ("telecom", "works")),
    DemoSupplier("poindimie", "Poindimié Services Informatiques", "1287654.001", "Tiéti\n98822 Poindimié", "Marie-Claude Ponga", 15, "BNC", ("maintenance", "services", "hardware")),
    DemoSupplier("lifou", "Lifou Connect", "1365478.001", "Chépénéhé\n98820 Lifou", "Wanaxa Qenegei", 15, "BCI", ("telecom",)),
    DemoSupplier("koumac", "Koumac Systèmes", "1099887.001", "Rue Gabriel Pascal Guyon\n98850 Koumac", "Alain Teimboueone", 30, "SGCB", ("maintenance", "hardware")),
    DemoSupplier("thio", "Thio Climatisation", "1076543.001", "Village\n98829 Thio", "Yvon Moindou", 30, "BNC", ("maintenance", "works")),
    DemoSupplier("lafoa", "La Foa Formation Professionnelle", "1232145.001", "Rue Lapetite\n98880 La Foa", "Véronique Gony", 30, "BCI", ("training",)),
    DemoSupplier("nouville", "Nouville Formation", "1276540.001", "Campus de Nouville, 4 rue du Port Despointes\n98800 Nouméa", "Samuel Kaloï", 30, "BNPNC", ("training",)),
    DemoSupplier("cyber", "Pacific Cyber Défense", "1354567.001", "Immeuble Carcopino 3000, baie de la Moselle\n98800 Nouméa", "Elsa Trolue", 30, "SGCB", ("security", "services", "software")),
    DemoSupplier("doc", "Quartier Latin Documentation", "0865432.001", "8 rue Anatole France\n98800 Nouméa", "Hélène Bouquet", 30, "BNC", ("documentation",)),
    DemoSupplier("energie", "Énergie Calédonienne de Distribution", "0700123.001", "1 rue Édouard Unger\n98800 Nouméa", "Service clients entreprises", 15, "BCI", ("energy",)),
    DemoSupplier("liaisons", "Télécom Calédonie Infrastructure", "0745678.001", "2 rue Monchovet\n98800 Nouméa", "Direction des grands comptes", 30, "BNC", ("telecom",)),
    DemoSupplier("assurances", "Assurances du Pacifique", "0812345.001", "18 avenue de la Victoire\n98800 Nouméa", "Cellule entreprises", 30, "SGCB", ("insurance",)),
    DemoSupplier("voyages", "Voyages du Caillou", "1145678.001", "Galerie Nouméa Centre, 21 rue Jean Jaurès\n98800 Nouméa", "Agence affaires", 15, "BCI", ("travel",)),
    DemoSupplier("juridique", "Cabinet Juridique du Pacifique", "1167890.001", "35 avenue du Maréchal Foch\n98800 Nouméa", "Maître Julie Ataba", 30, "BNPNC", ("fees",)),
    DemoSupplier("datanord", "Data Nord Intégration", "1321987.001", "Zone d'activités de Pandanus\n98860 Koné", "Boris Hmeun", 30, "BCI", ("services", "software")),
    DemoSupplier("ilesnum", "Numérique des Îles", "1378901.001", "Tadine\n98828 Maré", "Léontine Cawidrone", 15, "BNC", ("services", "maintenance", "network")),
    DemoSupplier("colons", "Vallée des Colons Électricité", "0933221.001", "62 rue Bichat\n98800 Nouméa", "René Boewa", 45, "SGCB", ("works", "energy")),
    DemoSupplier("tontouta", "Tontouta Logistique", "1187654.002", "Aéroport international, zone fret\n98840 Tontouta", "Fabrice Wéa", 30, "BCI", ("travel", "supplies")),
    DemoSupplier("nakety", "Nakéty Bâtiment", "1112233.001", "ZI de Normandie, 4 rue Gervolino\n98800 Nouméa", "Joseph Kaouma", 60, "BNPNC", ("works",)),
    DemoSupplier("cert", "Certification Électronique Calédonienne", "1334455.001", "9 rue de l'Alma\n98800 Nouméa", "Support certificats", 30, "BNC", ("software", "security")),
    DemoSupplier("dsipac", "Association des DSI du Pacifique", "1399001.001", "BP 2290\n98846 Nouméa Cedex", "Trésorerie", 30, "BCI", ("fees",)),
    DemoSupplier("plateau", "Plateau Technique Calédonien", "1223344.001", "Rue Fernand Forest, Ducos\n98800 Nouméa", "Vincent Hnawia", 45, "SGCB", ("hardware", "network", "security", "maintenance")),
    DemoSupplier("editeur", "Logiciels Métiers de France", "1401234.001", "14 quai Perrache\n69002 Lyon, France", "Service export", 30, "", ("software",), "EUR"),
    DemoSupplier("securite_eu", "Sécurité Numérique Europe", "1402345.001", "25 rue de la Boétie\n75008 Paris, France", "Account manager Pacifique", 30, "", ("security", "software"), "EUR"),
    DemoSupplier("nuage", "Nuage Public Europe", "1403456.001", "3 place de la Défense\n92400 Courbevoie, France", "Facturation entreprises", 30, "", ("cloud",), "EUR"),
)
# fmt: on
SUPPLIER_BY_KEY = {supplier.key: supplier for supplier in SUPPLIERS}


def rib(bank: str, branch: str, account: str) -> str:
    """A RIB (bank, branch, 11-digit account) with its key, modulo 97."""
    number = int(bank + branch + account + "00")
    return f"{bank}{branch}{account}{97 - number % 97:02d}"


def iban_fr(bank: str, branch: str, account: str) -> str:
    """A French IBAN around a RIB, its check digits computed."""
    bban = rib(bank, branch, account)
    digits = "".join(str(int(char, 36)) for char in bban + "FR00")
    return f"FR{98 - int(digits) % 97:02d}{bban}"


def supplier_fields(supplier: DemoSupplier, n: int) -> dict:
    """What supplier_create takes for a demo supplier (the n-th: its phone and account)."""
    slug = "".join(char for char in supplier.key if char.isalnum())
    if supplier.currency == "EUR":
        phone = f"+33 1 {40 + n:02d} {n * 7 % 100:02d} {n * 13 % 100:02d} {n * 17 % 100:02d}"
        bank_name, account = (
            "Banque de France (virement international)",
            iban_fr("30004", f"{n:05d}", f"{n * 7919:011d}"),
        )
    else:
        phone = f"+687 {20 + n % 70:02d} {n * 37 % 100:02d} {n * 53 % 100:02d}"
        code, bank_name = BANKS[supplier.bank]
        account = rib(code, f"{n * 11 % 100000:05d}", f"{n * 104729 % 10**11:011d}")
    return {
        "name": supplier.name,
        "ridet": supplier.ridet,
        "address": supplier.address,
        "contact_name": supplier.contact,
        "email": f"contact@{slug}.{'fr' if supplier.currency == 'EUR' else 'nc'}",
        "phone": phone,
        "payment_terms_days": supplier.terms,
        "bank_name": bank_name,
        "bank_account": account,
    }


# --- What is bought ----------------------------------------------------------------------
# Per account: (trade of the suppliers, TGC rate %, items). An item is (description, unit:
# "unit" (whole quantities), "day" (half days) or "lump" (one), typical unit price).

# fmt: off
BUYING = {
    "60632": ("hardware", "11", (("Casques audio USB", "unit", 12_000), ("Claviers et souris sans fil", "unit", 8_000), ("Modules SFP+ 10 Gb/s", "unit", 26_000), ("Clés de sécurité FIDO2", "unit", 7_500), ("Outillage de baie", "lump", 90_000))),
    "6064": ("supplies", "11", (("Ramettes de papier (cartons)", "unit", 5_200), ("Fournitures de bureau", "lump", 45_000))),
    "6068": ("supplies", "11", (("Cartouches de toner", "unit", 18_000), ("Cartouches LTO-9", "unit", 22_000), ("Jarretières optiques (lots de 10)", "unit", 16_000), ("Câbles réseau catégorie 6A (lots)", "unit", 9_500))),
    "611": ("services", "11", (("Journées d'ingénieur système", "day", 115_000), ("Journées de chef de projet", "day", 135_000), ("Journées de développeur", "day", 95_000), ("Journées de technicien de proximité", "day", 62_000), ("Forfait d'intervention", "lump", 480_000))),
    "6132": ("hosting", "11", (("Location d'espace technique", "lump", 600_000),)),
    "6135": ("rental", "11", (("Location de matériel", "lump", 350_000),)),
    "6152": ("maintenance", "6", (("Entretien de la climatisation de la salle serveurs", "lump", 420_000), ("Réparation du faux plancher", "lump", 260_000))),
    "6155": ("maintenance", "11", (("Réparation de portables hors garantie", "unit", 28_000), ("Remplacement d'écrans de portables", "unit", 35_000))),
    "6156": ("maintenance", "11", (("Extension de garantie", "lump", 650_000), ("Intervention de maintenance corrective", "day", 98_000), ("Pièces détachées", "unit", 45_000))),
    "616": ("insurance", "0", (("Prime d'assurance du matériel", "lump", 1_200_000),)),
    "617": ("services", "11", (("Journées d'étude", "day", 140_000), ("Atelier de cadrage", "lump", 850_000))),
    "6182": ("documentation", "3", (("Abonnement à la documentation technique", "lump", 95_000), ("Ouvrages techniques", "unit", 9_800))),
    "6184": ("training", "0", (("Formation inter-entreprises (par stagiaire)", "unit", 145_000), ("Session de formation intra", "lump", 620_000), ("Passage de certification", "unit", 48_000))),
    "6185": ("fees", "0", (("Inscription au salon", "unit", 65_000),)),
    "6226": ("services", "11", (("Journées d'audit", "day", 150_000), ("Test d'intrusion", "lump", 1_400_000), ("Consultation juridique", "day", 160_000))),
    "6228": ("security", "11", (("Journées de réponse à incident", "day", 175_000), ("Analyse forensique", "lump", 950_000))),
    "6251": ("travel", "0", (("Billets d'avion", "unit", 58_000), ("Hébergement en mission", "unit", 16_500))),
    "6262": ("telecom", "6", (("Frais d'accès au service", "lump", 180_000), ("Abonnement", "unit", 45_000))),
    "6281": ("fees", "0", (("Cotisation annuelle", "lump", 160_000),)),
    "6288": ("software", "11", (("Certificats électroniques serveur", "unit", 38_000), ("Jetons d'horodatage (lots)", "unit", 55_000))),
    "651": ("software", "11", (("Licences (abonnement annuel)", "unit", 24_000), ("Support éditeur annuel", "lump", 900_000))),
    "2031": ("services", "11", (("Journées d'étude préalable", "day", 140_000), ("Relevés et plans", "lump", 900_000))),
    "2051": ("software", "11", (("Licences perpétuelles", "unit", 85_000), ("Licence serveur", "unit", 420_000), ("Mise en service éditeur", "day", 150_000))),
    "2088": ("services", "11", (("Journées de développement", "day", 98_000), ("Journées de paramétrage", "day", 120_000), ("Recette et reprise de données", "day", 105_000))),
    "2135": ("works", "6", (("Travaux d'aménagement", "lump", 1_900_000), ("Cloisonnement et électricité", "lump", 1_250_000))),
    "2183": ("hardware", "11", (("Ordinateurs portables 14 pouces", "unit", 168_000), ("Postes fixes compacts", "unit", 112_000), ("Serveurs rack 2U", "unit", 2_400_000), ("Commutateurs 48 ports PoE", "unit", 820_000), ("Écrans 27 pouces", "unit", 46_000), ("Pare-feux nouvelle génération", "unit", 2_100_000), ("Téléphones IP", "unit", 24_000))),
    "2184": ("supplies", "11", (("Bureaux réglables", "unit", 92_000), ("Fauteuils ergonomiques", "unit", 58_000))),
    "2188": ("hardware", "11", (("Onduleurs 10 kVA", "unit", 1_150_000), ("Bornes Wi-Fi 6", "unit", 85_000), ("Stations d'accueil USB-C", "unit", 32_000), ("Climatiseur de local technique", "unit", 980_000), ("Caméras de vidéoprotection", "unit", 64_000))),
    "2313": ("works", "6", (("Travaux de gros œuvre", "lump", 4_200_000), ("Lot électricité courants forts", "lump", 3_600_000))),
    "2315": ("works", "6", (("Tirage de fibre optique (mètres)", "unit", 2_600), ("Génie civil de tranchée (mètres)", "unit", 9_500), ("Pylône et antenne", "lump", 2_800_000))),
    "238": ("works", "6", (("Avance forfaitaire sur marché", "lump", 2_500_000),)),
}
# fmt: on
DEFAULT_BUYING = ("supplies", "11", (("Fournitures", "unit", 15_000),))

# A request's subject: {centre} is the cost centre as named after "pour" (« la
# direction », « les sites… »), {of_centre} after "de" (« de la direction », « des
# sites… »), see request_subject(). tests/procurement/test_demo_subjects.py reads them all.
SUBJECTS = {
    "hardware": ("Renouvellement de matériel", "Équipement {of_centre}", "Achat de matériel pour {centre}"),
    "supplies": ("Fournitures pour {centre}", "Réapprovisionnement des consommables"),
    "services": ("Prestation pour {centre}", "Renfort {of_centre}", "Assistance technique"),
    "maintenance": ("Maintenance {of_centre}", "Réparations et pièces"),
    "software": ("Licences pour {centre}", "Renouvellement du support éditeur"),
    "training": ("Formation des agents {of_centre}", "Session du plan de formation"),
    "security": ("Prestation de sécurité", "Renfort sécurité"),
    "works": ("Travaux pour {centre}", "Lot de travaux"),
    "hosting": ("Hébergement complémentaire",),
    "rental": ("Location de matériel",),
    "telecom": ("Raccordement télécom",),
    "documentation": ("Documentation",),
    "fees": ("Inscriptions et cotisations",),
    "insurance": ("Assurance",),
    "travel": ("Déplacements",),
}  # fmt: skip

CENTRE_NAMES = {
    "DIR": "la direction",
    "INFRA": "l'exploitation",
    "APPLI": "l'équipe applications",
    "DATA": "l'équipe données",
    "RESEAU": "l'équipe réseaux",
    "POSTE": "l'équipe support",
    "SECU": "l'équipe sécurité",
    "WEB": "l'équipe web",
    "SITES": "les sites de Brousse et des Îles",
}

# Recurring contracts: (line code, supplier, subject, share of the line's available
# amount, variable monthly amounts). One is ended early (see CLOSED_EARLY).
# fmt: off
RECURRING = (
    ("F-6262-RESEAU", "liaisons", "Liaisons inter-sites (abonnement annuel)", 0.9, False),
    ("F-6262-INFRA", "lagon", "Bande passante internationale", 0.88, False),
    ("F-6262-POSTE", "lagon", "Forfaits de téléphonie mobile", 0.8, True),
    ("F-6262-SITES", "bourail", "Liaisons radio et fibre des sites isolés", 0.86, False),
    ("F-6262-SECU", "lifou", "Liaison satellite de secours", 0.9, False),
    ("F-6262-INFRA-DC2", "liaisons", "Fibre noire entre les deux datacentres", 0.85, False),
    ("F-6135-INFRA", "nuage", "Consommation cloud IaaS", 0.8, True),
    ("F-6135-POSTE", "bureautique", "Location des copieurs multifonctions", 0.9, False),
    ("F-6135-WEB", "caillou", "Hébergement cloud du site institutionnel", 0.88, False),
    ("F-6132-INFRA", "datacenter", "Colocation de baies (datacentre de secours)", 0.92, False),
    ("F-6132-SITES", "loyaute", "Locaux techniques de Koné, Lifou et Maré", 0.9, False),
    ("F-611-INFRA", "plateau", "Infogérance de nuit et astreintes", 0.88, False),
    ("F-611-APPLI", "neo", "Tierce maintenance applicative", 0.85, False),
    ("F-611-POSTE", "poindimie", "Support de proximité niveau 1", 0.87, False),
    ("F-611-SECU", "cyber", "Supervision de sécurité externalisée", 0.9, False),
    ("F-6156-INFRA", "plateau", "Maintenance annuelle des serveurs et du stockage", 0.85, False),
    ("F-6156-APPLI", "oceanie", "Maintenance des progiciels métiers", 0.9, False),
    ("F-6156-RESEAU", "reseaux", "Maintenance des commutateurs et routeurs", 0.88, False),
    ("F-651-POSTE", "oceanie", "Abonnements Microsoft 365", 0.9, False),
    ("F-651-APPLI", "editeur", "Support Oracle Database", 0.85, False),
    ("F-651-INFRA", "oceanie", "Support VMware vSphere", 0.9, False),
    ("F-651-SECU", "securite_eu", "Abonnement EDR", 0.88, False),
    ("F-651-DIR", "ansevata", "Abonnement de l'outil ITSM", 0.9, False),
    ("F-60612-INFRA", "energie", "Électricité du datacentre principal", 0.82, True),
    ("F-6156-SECU", "plateau", "Maintenance des pare-feux et des sondes", 0.88, False),
    ("F-651-DATA", "oceanie", "Abonnements Power BI", 0.9, False),
    ("F-6262-WEB", "caillou", "Bande passante dédiée du site institutionnel", 0.9, False),
    ("F-6132-INFRA-DC2", "datacenter", "Location de la salle du second datacentre", 0.9, False),
)
# fmt: on
CLOSED_EARLY = {
    "F-6135-POSTE": (9, "Contrat résilié au 31 août : parc remplacé par le marché régional."),
}

# Direct invoices (no request): (line code, supplier, description, how many, share).
DIRECT = (
    ("F-6251-DIR", "voyages", "Billets d'avion Nouméa – Sydney (mission)", 6, 0.6),
    ("F-6251-SITES", "voyages", "Billets d'avion Nouméa – Lifou – Maré", 10, 0.65),
    ("F-6251-INFRA", "tontouta", "Déplacement et fret de matériel", 5, 0.6),
    ("F-616-INFRA", "assurances", "Prime annuelle d'assurance du matériel", 1, 0.95),
    ("F-6281-DIR", "dsipac", "Cotisation annuelle", 1, 0.7),
    ("F-6182-DIR", "doc", "Documentation technique", 5, 0.7),
    ("F-6185-DIR", "nouville", "Inscription au séminaire numérique du Pacifique", 2, 0.6),
    ("F-6288-SECU", "cert", "Certificats électroniques", 3, 0.65),
    ("F-6226-DIR", "juridique", "Honoraires d'assistance juridique", 3, 0.6),
)

# Lines where the IT director approves, late in the year, beyond the available amount.
OVERRIDES = (
    ("F-6228-SECU", "cyber", "Second incident de sécurité : réponse à incident",
     "Second incident de sécurité en septembre : intervention urgente du prestataire, "
     "crédits régularisés à la DM2."),
    ("F-6184-SECU", "lafoa", "Certifications de l'équipe du SOC (session de rattrapage)",
     "Certifications exigées par la convention avec le SOC régional ; "
     "virement de crédits demandé en parallèle."),
    ("F-60632-SECU", "plateau", "Clés FIDO2 pour les nouveaux agents",
     "Arrivée de quarante agents au 1er novembre : authentification forte obligatoire."),
)  # fmt: skip

# Large purchases above the approval threshold, approved by the IT director.
OVER_THRESHOLD = (
    ("I-2183-POSTE", "distrib", "Renouvellement de soixante postes de travail"),
    ("I-2313-INFRA-DC2", "nakety", "Second datacentre : travaux de gros œuvre, lot 1"),
    ("I-2183-INFRA", "plateau", "Baie de stockage de remplacement"),
    ("I-2051-APPLI-SIRH", "editeur", "Licences du progiciel SIRH (module paie)"),
)

SHORT_REJECTION = (
    "Crédits insuffisants sur la ligne à ce jour : demande à représenter après un virement."
)
REJECTIONS = (
    "Devis à actualiser : l'offre date de plus de trois mois.",
    "Trois devis sont nécessaires au-delà de ce montant : merci de compléter la mise en concurrence.",
    "Besoin couvert par l'accord-cadre régional : commander auprès du titulaire.",
    "Quantités à justifier au regard de l'inventaire du parc.",
    "Crédits réservés au renouvellement du second semestre : à représenter en septembre.",
    "Doublon avec une demande déjà approuvée pour le même besoin.",
)
CANCELLATIONS = (
    "Besoin abandonné par le service demandeur.",
    "Projet reporté à l'exercice suivant.",
    "Erreur de saisie : la demande est refaite.",
    "Matériel finalement fourni par le stock de la DSI.",
)
# Short: the order's history keeps "Cancelled with the request DA-…: <reason>" in 100
# characters at most (see the report on purchase_request_cancel).
APPROVED_CANCELLATIONS = (
    "Le fournisseur ne peut plus livrer.",
    "Opération reportée par le comité de pilotage.",
    "Commande saisie sur la mauvaise ligne.",
)

NOUMEA = ZoneInfo("Pacific/Noumea")
PLANNED_REQUESTS = 300  # over the whole year; about 290 by the end of November
REQUEST_SPEND = (0.55, 0.82)  # the share of a line's available amount its requests take
# A past year is played whole: its requests take more, as a year's execution does.
PAST_REQUEST_SPEND = (0.88, 0.96)  # 4 % left at least: revised invoices (+3 %)
MAX_REQUEST = 4_900_000  # below the approval threshold, except the planned large ones
EUR_PARITY = Decimal(settings.EUR_PARITY)


# --- The plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    description: str
    quantity: Decimal
    unit_price: int
    rate: str

    @property
    def amount(self) -> int:
        return int((self.quantity * self.unit_price).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class RequestPlan:
    created: datetime
    line: BudgetLine
    supplier: str
    subject: str
    items: list[Item]
    fate: str = "normal"  # normal, draft, incomplete, rejected, reopened, withdrawn, cancelled, over, override
    variants: frozenset[str] = frozenset()
    reason: str = ""
    source: BudgetLine | None = None  # an override's shortage is made good from this line


@dataclass
class ContractPlan:
    line: BudgetLine
    supplier: str
    subject: str
    yearly: int
    variable: bool


@dataclass
class DirectPlan:
    received: date
    line: BudgetLine
    supplier: str
    description: str
    amount: int
    rate: str
    cancelled: bool = False


@dataclass
class ProcurementPlan:
    start: datetime
    requests: list[RequestPlan] = field(default_factory=list)
    contracts: list[ContractPlan] = field(default_factory=list)
    directs: list[DirectPlan] = field(default_factory=list)


def _work_moment(day: date, rng: random.Random) -> datetime:
    """A moment of a working day (Monday to Friday, 7:30 to 16:30 in Noumea)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = rng.randint(7 * 60 + 30, 16 * 60 + 30)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=NOUMEA)


def _later(moment: datetime, low: int, high: int, rng: random.Random) -> datetime:
    """A working moment `low` to `high` days after `moment`, always after it."""
    later = _work_moment(moment.astimezone(NOUMEA).date() + timedelta(rng.randint(low, high)), rng)
    return later if later > moment else moment + timedelta(minutes=rng.randint(10, 120))


def _buying(line: BudgetLine) -> tuple:
    return BUYING.get(line.nature_account.number, DEFAULT_BUYING)


def _supplier_for(trade: str, rng: random.Random, *, currency: str = "XPF") -> str:
    found = [s.key for s in SUPPLIERS if trade in s.trades and s.currency == currency]
    if not found:
        found = [s.key for s in SUPPLIERS if trade in s.trades] or ["distrib"]
    return rng.choice(found)


def _items(line: BudgetLine, amount: int, rng: random.Random) -> list[Item]:
    """One to three items whose total is close to (and never above) `amount`."""
    _trade, rate, catalogue = _buying(line)
    count = min(len(catalogue), rng.choice((1, 1, 2, 2, 3)), max(1, amount // 60_000))
    chosen = rng.sample(catalogue, count)
    weights = [rng.uniform(0.5, 1.5) for _ in chosen]
    items = []
    for (description, unit, typical), weight in zip(chosen, weights, strict=True):
        share = amount * weight / sum(weights)
        if unit == "lump":
            quantity = Decimal(1)
        elif unit == "day":
            quantity = Decimal(max(1, round(share / typical * 2))) / 2
        else:
            quantity = Decimal(max(1, min(400, round(share / typical))))
        unit_price = max(100, int(share / float(quantity)) // 100 * 100)
        items.append(Item(description, quantity, unit_price, rate))
    return items


def subject_templates(line: BudgetLine) -> tuple[str, ...]:
    """The subjects a request on `line` may take (SUBJECTS of the line's trade)."""
    return SUBJECTS.get(_buying(line)[0], ("Achat",))


def _words(text: str) -> list[str]:
    return text.lower().replace("’", "'").replace("'", "' ").split()


def request_subject(template: str, line: BudgetLine, *, with_label: bool) -> str:
    """The subject `template` written for `line`'s cost centre, followed by the line's
    label when `with_label`, or the label alone when the two would say the same words
    twice (« Location de matériel – Location de groupes électrogènes… », « Renfort de
    l'équipe support – Support de proximité… »)."""
    centre = CENTRE_NAMES.get(line.cost_centre.code, line.cost_centre.label)
    for article, contracted in (("les ", "des "), ("le ", "du ")):
        if centre.startswith(article):
            of_centre = contracted + centre.removeprefix(article)
            break
    else:
        of_centre = f"de {centre}"
    subject = template.format(centre=centre, of_centre=of_centre)
    if not with_label:
        return subject
    label = line.label[:120]
    first, second = _words(subject), _words(label)
    if second[0] in (first[0], first[-1]) or _word_pairs(first) & _word_pairs(second):
        return label
    return f"{subject} – {label}"


def _word_pairs(words: list[str]) -> set[tuple[str, str]]:
    """Pairs of neighbouring words that say something (« des sites », not « de l' »)."""
    return {pair for pair in itertools.pairwise(words) if max(map(len, pair)) > 3}


def _subject(line: BudgetLine, rng: random.Random) -> str:
    # Two draws, as always: the rest of the plan keeps its random sequence.
    template = rng.choice(subject_templates(line))
    return request_subject(template, line, with_label=rng.random() < 0.4)


def procurement_plan(
    fiscal_year: FiscalYear,
    *,
    seed: str | None = None,
    volume: float = 1.0,
    spend: tuple[float, float] = REQUEST_SPEND,
    contracts_extra: float = 0.0,
) -> ProcurementPlan:
    """The year's plan, drawn from its budget lines and their available amounts.

    `volume` scales the number of ordinary requests (about PLANNED_REQUESTS × volume)
    and of their unhappy fates, not the amounts: with 0.5, half as many requests buy as
    much, each twice as large. `spend`: the share of each line's available amount its
    requests take (drawn between the two); `contracts_extra` is added to the share of
    the fixed-price contracts (RECURRING).
    """
    rng = random.Random(seed or f"demo-procurement:{fiscal_year.year}")  # noqa: S311 (demo)
    year = fiscal_year.year
    lines = {
        line.code: line
        for line in line_availability(fiscal_year=fiscal_year).select_related(
            "nature_account", "cost_centre"
        )
    }
    available = {code: max(0, line.available_amount) for code, line in lines.items()}
    plan = ProcurementPlan(start=_work_moment(date(year, 1, 2), rng))
    used: set[str] = set()

    for code, supplier, subject, share, variable in RECURRING:
        if code in lines and available[code] > 120_000:
            if not variable:  # a fixed price: sized closer to the credits in a past year
                share = min(0.97, share + contracts_extra)
            yearly = int(available[code] * share) // 1200 * 1200
            plan.contracts.append(ContractPlan(lines[code], supplier, subject, yearly, variable))
            used.add(code)

    for code, supplier, description, count, share in DIRECT:
        if code not in lines or available[code] < 50_000:
            continue
        used.add(code)
        rate = _buying(lines[code])[1]
        weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
        for n, weight in enumerate(weights):
            amount = int(available[code] * share * weight / sum(weights)) // 100 * 100
            received = date(year, 1, 20) + timedelta(days=int(330 * (n + rng.random()) / count))
            plan.directs.append(
                DirectPlan(received, lines[code], supplier, description, amount, rate)
            )
    if plan.directs:
        rng.choice(plan.directs[1:] or plan.directs).cancelled = True

    requests = plan.requests
    # The large purchases: the director's approval, on lines that can carry them.
    for code, supplier, subject in OVER_THRESHOLD:
        line = lines.get(code)
        if line is None or available[code] < 9_000_000:
            continue
        amount = min(rng.randint(55, 95) * 100_000, int(available[code] * 0.6))
        created = _work_moment(date(year, 1, 15) + timedelta(days=rng.randint(0, 250)), rng)
        items = _items(line, amount, rng)
        if sum(item.amount for item in items) <= settings.PROCUREMENT_APPROVAL_THRESHOLD:
            continue  # the rounding took it below the threshold
        requests.append(RequestPlan(created, line, supplier, subject, items, fate="over"))
        available[code] -= sum(item.amount for item in items)

    # The lines kept for the director's overrides: a first request early in the year,
    # the override from late August (sized on the available amount at that time).
    for code, supplier, subject, reason in OVERRIDES:
        line = lines.get(code)
        if line is None or available[code] < 100_000:
            continue
        used.add(code)
        amount = int(available[code] * rng.uniform(0.7, 0.85))
        created = _work_moment(date(year, 2, 1) + timedelta(days=rng.randint(0, 90)), rng)
        requests.append(
            RequestPlan(
                created, line, _supplier_for(_buying(line)[0], rng), _subject(line, rng),
                _items(line, amount, rng), variants=frozenset({"straight"}),
            )
        )  # fmt: skip
        late = _work_moment(date(year, 8, 24) + timedelta(days=rng.randint(0, 25)), rng)
        extra = max(50_000, int(line.opened * rng.uniform(0.15, 0.35)))
        requests.append(
            RequestPlan(late, line, supplier, subject, [], fate="override", reason=reason,
                        variants=frozenset({f"extra:{extra}"}))
        )  # fmt: skip

    # Everything else is bought through requests, about PLANNED_REQUESTS of them.
    budgets = {
        code: int(available[code] * rng.uniform(*spend))
        for code, line in lines.items()
        if code not in used and available[code] >= 60_000
    }
    # An override is made good by a transfer from the line of its section that keeps the
    # most credits aside (what its own requests leave: 18 % or more of a large line).
    for request in requests:
        if request.fate == "override":
            section = [code for code in budgets if lines[code].section == request.line.section]
            request.source = lines[max(section, key=lambda code: available[code] - budgets[code])]
    mean = sum(budgets.values()) / max(1, round(PLANNED_REQUESTS * volume) - len(requests))
    euro_lines = {code for code in budgets if _buying(lines[code])[0] == "software"}
    for code, total in sorted(budgets.items()):
        line = lines[code]
        count = max(1, round(total / mean), math.ceil(total / MAX_REQUEST))
        weights = [rng.uniform(0.4, 1.6) for _ in range(count)]
        for weight in weights:
            amount = min(MAX_REQUEST, int(total * weight / sum(weights)))
            if amount < 20_000:
                continue
            trade = _buying(line)[0]
            euro = code in euro_lines and rng.random() < 0.12
            supplier = _supplier_for(trade, rng, currency="EUR" if euro else "XPF")
            created = _work_moment(date(year, 1, 5) + timedelta(days=rng.randint(0, 340)), rng)
            requests.append(
                RequestPlan(created, line, supplier, _subject(line, rng), _items(line, amount, rng))
            )
    _assign_fates([r for r in requests if r.fate == "normal" and not r.variants], rng, volume)
    requests.sort(key=lambda r: r.created)
    return plan


def _assign_fates(requests: list[RequestPlan], rng: random.Random, volume: float = 1.0) -> None:
    """Which requests end as drafts, rejected, cancelled…, and the twists of the others."""
    pool = list(requests)
    rng.shuffle(pool)
    fates = (
        ("draft", 7), ("incomplete", 3), ("rejected", 14), ("reopened", 2),
        ("withdrawn", 8), ("cancelled", 6),
    )  # fmt: skip
    for fate, planned in fates:
        count = max(1, round(planned * volume))
        for request in pool[:count]:
            request.fate = fate
            if fate in ("rejected", "reopened"):
                request.reason = rng.choice(REJECTIONS)
            elif fate == "withdrawn":
                request.reason = rng.choice(CANCELLATIONS)
            elif fate == "cancelled":
                request.reason = rng.choice(APPROVED_CANCELLATIONS)
        pool = pool[count:]
    twists = (
        ("partial", 0.15), ("two_invoices", 0.75), ("discount", 0.04), ("remainder", 0.03),
        ("revised", 0.03), ("wrong_entry", 0.03), ("reissued", 0.015), ("unpaid", 0.05),
        ("receipt_error", 0.015), ("not_sent", 0.06),
    )  # fmt: skip
    for request in pool:
        chosen = set()
        for twist, probability in twists:
            if twist == "two_invoices" and "partial" not in chosen:
                continue
            if rng.random() < probability:
                chosen.add(twist)
        if "remainder" in chosen:
            chosen.add("partial")
            chosen.discard("two_invoices")
        request.variants = frozenset(chosen)


# --- Playing the plan through the services -----------------------------------------------

DELIVERY_ADDRESS = "Direction des systèmes d'information\nMagasin, 1 rue de la Somme\n98800 Nouméa"
JUSTIFICATIONS = (
    "Besoin inscrit au plan d'équipement de l'année.",
    "Remplacement de matériel en fin de vie signalé par l'exploitation.",
    "Demande du service utilisateur, validée en comité de pilotage.",
    "Nécessaire à la continuité de service.",
    "Devis joint, comparé à deux autres offres.",
    "",
)
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


@dataclass
class ProcurementSeedResult:
    year: int
    skipped: str = ""  # why nothing was done, if so
    suppliers: int = 0
    requests: int = 0
    commitments: int = 0
    orders: int = 0
    receipts: int = 0
    invoices: int = 0
    seconds: float = 0.0


class _Player:
    """Plays the plan's events in order of time, each with the clock set to its moment."""

    def __init__(self, *, year: int, users: dict, limit: datetime, billing: int = 1):
        self.year = year
        self.users = users
        self.limit = limit
        self.billing = billing  # months between two invoices of a contract
        self.contracts = 0  # contracts opened: staggers their billing months
        self.rng = random.Random(f"demo-procurement-play:{year}")  # noqa: S311 (demo)
        self.events: list = []
        self.sequence = 0
        self.moment: datetime | None = None
        self.suppliers: dict[str, Supplier] = {}
        self.numbers: dict[str, int] = {}
        self.payments: list[tuple[date, Invoice]] = []
        self.unbilled: list[tuple] = []  # monthly invoices not received by the limit

    # The timeline

    def at(self, moment: datetime, action: Callable, *args) -> None:
        """Schedule an action; what falls after now has not happened yet."""
        if moment <= self.limit:
            heapq.heappush(self.events, (moment, self.sequence, action, args))
            self.sequence += 1

    def later(self, low: int, high: int) -> datetime:
        return _later(self.moment, low, high, self.rng)

    @property
    def today(self) -> date:
        return self.moment.astimezone(NOUMEA).date()

    @contextmanager
    def clock(self):
        """django.utils.timezone.now returns the moment of the event being played."""
        real_now = timezone.now

        def now() -> datetime:
            return self.moment.astimezone(ZoneInfo("UTC")) if self.moment else real_now()

        with mock.patch.object(timezone, "now", now):
            yield

    def play(self, on_month: Callable[[int], None] | None = None) -> None:
        """Play every event; `on_month(month)` after the last event of each month (the
        seed's progress lines)."""
        with self.clock():
            while self.events:
                moment, _sequence, action, args = heapq.heappop(self.events)
                month = moment.astimezone(NOUMEA).month
                if on_month and self.moment and month != self.today.month:
                    on_month(self.today.month)
                self.moment = moment
                action(*args)
            if on_month and self.moment:
                on_month(self.today.month)

    # Suppliers

    def create_suppliers(self) -> None:
        existing = {
            s.ridet: s for s in Supplier.objects.filter(ridet__in=[s.ridet for s in SUPPLIERS])
        }
        for n, demo in enumerate(SUPPLIERS, start=1):
            supplier = existing.get(demo.ridet)
            if supplier is None:
                supplier = supplier_services.supplier_create(
                    user=self.users["buyer"], **supplier_fields(demo, n)
                )
            self.suppliers[demo.key] = supplier

    def supplier(self, key: str) -> Supplier | None:
        supplier = self.suppliers.get(key)
        return supplier if supplier is not None and supplier.is_active else None

    def supplier_number(self, key: str) -> str:
        self.numbers[key] = self.numbers.get(key, 0) + 1
        prefix = "".join(char for char in key.upper() if char.isalpha())[:3]
        return f"{prefix}{self.year % 100}-{self.numbers[key] * 7 + 100:04d}"

    # Requests

    def request_lines(self, plan: RequestPlan, *, incomplete: bool = False) -> list[dict]:
        lines = [
            {
                "description": item.description,
                "quantity": item.quantity,
                "unit_price": item.unit_price,
                "tax_rate": item.rate,
                "budget_line": plan.line,
            }
            for item in plan.items
        ]
        if incomplete:
            lines.append(
                {
                    "description": "Frais de livraison",
                    "quantity": Decimal(1),
                    "unit_price": 15_000,
                    "tax_rate": "11",
                    "budget_line": None,
                }
            )
        return lines

    def request_create(self, plan: RequestPlan) -> None:
        supplier = self.supplier(plan.supplier)
        if supplier is None:
            return
        if plan.fate == "override":
            line = BudgetLine.objects.get(pk=plan.line.pk)
            extra = int(next(v for v in plan.variants if v.startswith("extra:"))[6:])
            # Beyond the available amount, whatever the rounding of the items.
            plan.items = _items(line, max(0, line.available) + extra, self.rng)
            short = max(0, line.available) - sum(item.amount for item in plan.items)
            if short >= 0:
                plan.items.append(Item("Frais de mise en œuvre", Decimal(1), short + extra, "11"))
        request = request_services.purchase_request_create(
            user=self.users["buyer"],
            supplier=supplier,
            subject=plan.subject,
            justification=self.rng.choice(JUSTIFICATIONS),
            lines=self.request_lines(plan, incomplete=plan.fate == "incomplete"),
        )
        if plan.fate not in ("draft", "incomplete"):
            self.at(self.later(0, 2), self.request_submit, plan, request)

    def request_submit(self, plan: RequestPlan, request: PurchaseRequest) -> None:
        request_services.purchase_request_submit(user=self.users["buyer"], request=request)
        if plan.fate == "withdrawn":
            self.at(self.later(1, 6), self.request_withdraw, plan, request)
        elif plan.fate in ("rejected", "reopened"):
            self.at(self.later(1, 5), self.request_reject, plan, request)
        elif plan.fate in ("over", "override"):
            self.at(self.later(1, 5), self.request_approve, plan, request, "director")
        else:
            self.at(self.later(1, 6), self.request_approve, plan, request, "head")

    def request_withdraw(self, plan: RequestPlan, request: PurchaseRequest) -> None:
        request_services.purchase_request_cancel(
            user=self.users["buyer"], request=request, reason=plan.reason
        )

    def request_reject(self, plan: RequestPlan, request: PurchaseRequest) -> None:
        request_services.purchase_request_reject(
            user=self.users["head"], request=request, reason=plan.reason
        )
        if plan.fate == "reopened":
            self.at(self.later(1, 4), self.request_rework, plan, request)

    def request_rework(self, plan: RequestPlan, request: PurchaseRequest) -> None:
        """The buyer reopens a rejected request, cuts the quantities, and submits it again."""
        request_services.purchase_request_reopen(user=self.users["buyer"], request=request)
        plan.items = [
            Item(
                item.description,
                max(Decimal(1), (item.quantity * 3 / 4).to_integral_value()),
                item.unit_price,
                item.rate,
            )
            for item in plan.items
        ]
        request_services.purchase_request_update(
            user=self.users["buyer"],
            request=request,
            supplier=request.supplier,
            subject=request.subject,
            justification="Quantités revues après le refus, selon l'inventaire du parc.",
            lines=self.request_lines(plan),
        )
        plan.fate = "normal"
        self.at(self.later(0, 1), self.request_submit, plan, request)

    def request_approve(self, plan: RequestPlan, request: PurchaseRequest, who: str) -> None:
        try:
            commitment = request_services.purchase_request_approve(
                user=self.users[who],
                request=request,
                override_reason=plan.reason if plan.fate == "override" else "",
            )
        except CreditsShortError:  # the line gave credits away meanwhile: refused
            request_services.purchase_request_reject(
                user=self.users[who], request=request, reason=SHORT_REJECTION
            )
            return
        order_at = self.later(1, 8)
        if plan.fate == "override" and plan.source is not None:
            self.at(self.later(2, 8), self.transfer_request, plan, request)
        if plan.fate == "cancelled":
            cancel_at = self.later(3, 25)
            self.at(cancel_at, self.request_cancel, plan, request)
            if order_at < cancel_at and self.rng.random() < 0.6:
                self.at(order_at, self.order_create, plan, commitment)
            return
        self.at(order_at, self.order_create, plan, commitment)

    def transfer_request(self, plan: RequestPlan, request: PurchaseRequest) -> None:
        """The section head asks to make good the line the director let go below zero."""
        line = BudgetLine.objects.get(pk=plan.line.pk)
        if line.available >= 0:
            return
        source = BudgetLine.objects.get(pk=plan.source.pk)
        amount = (-line.available // 10_000 + 2) * 10_000
        if source.available < amount:
            return  # nothing to take it from: the line stays over until the DM
        transfer = budget_services.transfer_request(
            user=self.users["head"],
            source=source,
            target=line,
            amount=amount,
            reason=f"Régularisation du dépassement autorisé par le directeur ({request.number}).",
        )
        self.at(self.later(1, 3), self.transfer_approve, transfer)

    def transfer_approve(self, transfer) -> None:
        try:
            budget_services.transfer_approve(user=self.users["director"], transfer=transfer)
        except ServiceError:  # the source was spent meanwhile
            budget_services.transfer_reject(
                user=self.users["director"],
                transfer=transfer,
                note="La ligne source n’a plus ces crédits : régularisation à la DM.",
            )

    def request_cancel(self, plan: RequestPlan, request: PurchaseRequest) -> None:
        request_services.purchase_request_cancel(
            user=self.users["head"], request=request, reason=plan.reason
        )

    # Orders and receipts

    def order_create(self, plan: RequestPlan, commitment: Commitment) -> None:
        order = order_services.purchase_order_create(
            user=self.users["buyer"],
            commitment=commitment,
            delivery_address=DELIVERY_ADDRESS,
            delivery_date=self.today + timedelta(days=self.rng.randint(10, 40)),
        )
        if "not_sent" not in plan.variants:
            self.at(self.later(0, 2), self.order_send, order)
        if plan.fate == "cancelled":
            return
        delivered = self.later(8, 40)
        lines = list(commitment.lines.order_by("position"))
        if "partial" in plan.variants and (len(lines) > 1 or lines[0].quantity > 1):
            first = {line.pk: self.part_of(line.quantity) for line in lines}
            if not any(first.values()):
                first[lines[0].pk] = lines[0].quantity
            rest = {line.pk: line.quantity - first[line.pk] for line in lines}
            final = "remainder" in plan.variants
            self.at(delivered, self.receipt_create, plan, commitment, first, final)
            if not final:
                self.at(
                    _later(delivered, 10, 35, self.rng),
                    self.receipt_create,
                    plan,
                    commitment,
                    rest,
                    True,
                )
        else:
            full = {line.pk: line.quantity for line in lines}
            self.at(delivered, self.receipt_create, plan, commitment, full, True)

    def part_of(self, quantity: Decimal) -> Decimal:
        """Some of a quantity, in its own steps (whole units, half days); 0 for a lump."""
        step = Decimal(1) if quantity == quantity.to_integral_value() else Decimal("0.5")
        part = (quantity * Decimal(self.rng.uniform(0.4, 0.7)) / step).to_integral_value() * step
        return min(max(part, Decimal(0)), quantity - step) if quantity > step else Decimal(0)

    def order_send(self, order: PurchaseOrder) -> None:
        order.refresh_from_db()
        if order.state == PurchaseOrder.State.ISSUED:
            order_services.purchase_order_mark_sent(user=self.users["buyer"], order=order)

    def receipt_create(
        self, plan: RequestPlan, commitment: Commitment, quantities: dict, final: bool
    ) -> None:
        quantities = {pk: quantity for pk, quantity in quantities.items() if quantity > 0}
        if "receipt_error" in plan.variants:
            # A quantity typed wrong, cancelled at once, then the right receipt.
            pk, quantity = next(iter(quantities.items()))
            wrong = receipt_services.receipt_create(
                user=self.users["buyer"],
                commitment=commitment,
                received_on=self.today,
                quantities={pk: quantity / 2 if quantity > 1 else quantity},
            )
            receipt_services.receipt_cancel(
                user=self.users["buyer"],
                receipt=wrong,
                reason="Quantité saisie erronée : la réception est ressaisie.",
            )
        receipt_services.receipt_create(
            user=self.users["buyer"],
            commitment=commitment,
            received_on=self.today,
            quantities=quantities,
            note="" if final else "Livraison partielle : le reliquat est attendu.",
        )
        if final and "two_invoices" not in plan.variants:
            quantities = {line.pk: line.received_quantity for line in commitment.lines.all()}
        elif not final and "two_invoices" not in plan.variants and "remainder" not in plan.variants:
            return  # one invoice for the whole, after the last receipt
        self.at(self.later(3, 20), self.invoice_matched, plan, commitment, quantities, final)

    # Invoices

    def invoice_matched(
        self, plan: RequestPlan, commitment: Commitment, quantities: dict, final: bool
    ) -> None:
        lines = {line.pk: line for line in commitment.lines.select_related("tax_rate")}
        factor = Decimal(1)
        if final and "discount" in plan.variants:
            factor = Decimal("0.94")
        elif "revised" in plan.variants:
            factor = Decimal("1.03")
        entries = []
        for pk, quantity in quantities.items():
            if quantity <= 0:
                continue
            line = lines[pk]
            amount = (quantity * line.unit_price * factor).quantize(Decimal(1), ROUND_HALF_UP)
            entries.append(
                {
                    "description": line.description,
                    "amount_ht": int(amount),
                    "tax_rate": line.tax_rate,
                    "commitment_line": line,
                    "quantity": quantity,
                }
            )
        close = ""
        if final and "discount" in plan.variants:
            close = "Remise commerciale sur la facture : le solde de l'engagement est libéré."
        elif final and "remainder" in plan.variants:
            close = "Reliquat non livrable (article arrêté par le fournisseur) : engagement soldé."
        self.invoice_enter(
            supplier_key=plan.supplier,
            commitment=commitment,
            lines=entries,
            twists=plan.variants,
            close=close,
        )

    def invoice_enter(
        self,
        *,
        supplier_key: str,
        lines: list[dict],
        commitment: Commitment | None = None,
        twists: frozenset[str] = frozenset(),
        close: str = "",
        cancel: str = "",
        number: str | None = None,
        invoice_date: date | None = None,
    ) -> None:
        supplier = self.supplier(supplier_key)
        if supplier is None:
            return
        original = lines
        euro = SUPPLIER_BY_KEY[supplier_key].currency == "EUR"
        if euro:
            lines = [
                {
                    **line,
                    "amount_ht": (Decimal(line["amount_ht"]) / EUR_PARITY).quantize(
                        Decimal("0.01")
                    ),
                }
                for line in lines
            ]
        number = number or self.supplier_number(supplier_key)
        given = {
            "user": self.users["accountant"],
            "supplier": supplier,
            "supplier_number": number,
            "invoice_date": invoice_date or self.today - timedelta(days=self.rng.randint(1, 8)),
            "received_on": self.today,
            "commitment": commitment,
            "currency": "EUR" if euro else "XPF",
        }
        if "wrong_entry" in twists:
            # Typed with a wrong amount, cancelled at once, entered again.
            twists = twists - {"wrong_entry"}
            wrong = [{**lines[0], "amount_ht": lines[0]["amount_ht"] * 10}, *lines[1:]]
            mistake = invoice_services.invoice_create(**given, lines=wrong)
            invoice_services.invoice_cancel(
                user=self.users["accountant"],
                invoice=mistake,
                reason="Montant saisi erroné (un zéro de trop) : facture ressaisie.",
            )
        invoice = invoice_services.invoice_create(**given, lines=lines)
        if cancel:
            self.at(self.later(1, 5), self.invoice_cancel, invoice, cancel)
            return
        story = {"twists": twists, "close": close, "lines": original, "supplier": supplier_key}
        self.at(self.later(1, 8), self.invoice_liquidate, invoice, story)

    def invoice_cancel(self, invoice: Invoice, reason: str) -> None:
        invoice_services.invoice_cancel(
            user=self.users["accountant"], invoice=invoice, reason=reason
        )

    def invoice_liquidate(self, invoice: Invoice, story: dict) -> None:
        invoice = invoice_services.invoice_liquidate(user=self.users["accountant"], invoice=invoice)
        if invoice.state == Invoice.State.TO_VALIDATE:
            self.at(self.later(1, 4), self.invoice_validate, invoice, story)
        else:
            self.liquidated(invoice, story)

    def invoice_validate(self, invoice: Invoice, story: dict) -> None:
        invoice = invoice_services.invoice_validate(user=self.users["head"], invoice=invoice)
        self.liquidated(invoice, story)

    def liquidated(self, invoice: Invoice, story: dict) -> None:
        """After a liquidation: a replacement, the payment, the closing of the commitment."""
        if "reissued" in story["twists"]:
            self.at(self.later(3, 10), self.invoice_reissue, invoice, story)
            return
        if "unpaid" not in story["twists"]:
            # Paid around the due date: early, on time, late, or very late.
            delay = self.rng.choice((-8, -3, 0, 2, 5, 8, 12, 20, 30, 45, 75))
            paid_on = max(invoice.due_on + timedelta(days=delay), self.today + timedelta(days=1))
            if self.rng.random() < 0.1:  # entered by hand on the day
                self.at(_work_moment(paid_on, self.rng), self.invoice_pay, invoice)
            else:  # in the Finance Direction's weekly list of payments
                self.payments.append((paid_on, invoice))
        if story["close"] and invoice.commitment_id:
            self.at(self.later(5, 20), self.commitment_close, invoice.commitment_id, story["close"])

    def invoice_reissue(self, invoice: Invoice, story: dict) -> None:
        """The supplier replaces a liquidated invoice: reversed, then the new one entered."""
        invoice_services.invoice_cancel(
            user=self.users["accountant"],
            invoice=invoice,
            reason="Facture remplacée par une facture rectificative du fournisseur.",
        )
        commitment = Commitment.objects.filter(pk=invoice.commitment_id).first()
        self.invoice_enter(
            supplier_key=story["supplier"],
            commitment=commitment
            if commitment and commitment.kind != Commitment.Kind.DIRECT
            else None,
            lines=story["lines"],
            twists=story["twists"] - {"reissued"},
            close=story["close"],
            number=f"{invoice.supplier_number}-R",
        )

    def invoice_pay(self, invoice: Invoice) -> None:
        payment_services.invoice_set_payment_date(
            user=self.users["accountant"], invoice=invoice, payment_date=self.today
        )

    def payments_import(self) -> None:
        """Monday: the Finance Direction's list of last week's payments, imported (XLSX)."""
        paid = sorted(
            ((day, invoice) for day, invoice in self.payments if day < self.today),
            key=lambda payment: (payment[0], payment[1].pk),
        )
        if not paid:
            return
        self.payments = [(day, invoice) for day, invoice in self.payments if day >= self.today]
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(payment_services.payment_import_headers())
        for day, invoice in paid:
            sheet.append([invoice.number, "", "", day])
        content = BytesIO()
        workbook.save(content)
        result = payment_services.invoice_payments_import(
            user=self.users["accountant"], file=content.getvalue()
        )
        if not result.ok:  # the plan is wrong: say which rows, and roll everything back
            raise RuntimeError(f"Payment import refused: {result.errors}")

    def commitment_close(self, commitment_id: int, reason: str) -> None:
        commitment = Commitment.objects.get(pk=commitment_id)
        if commitment.state == Commitment.State.OPEN:
            commitment_services.commitment_close(
                user=self.users["head"], commitment=commitment, reason=reason
            )

    # The closing of a past year

    def year_end(self, fiscal_year: FiscalYear) -> None:
        """31 December, evening: what a closing leaves of the year's purchasing.

        The last payments are imported, the contracts' December invoices (received in
        January) are entered, the transfers still waiting are approved (a year closes
        with none), the invoices waiting are liquidated (and validated), the
        requests never approved are cancelled, and every commitment still open is closed:
        its remainder is released (the app carries nothing over to the next year).
        """
        self.moment = datetime.combine(date(self.year, 12, 31), time(17, 30), tzinfo=NOUMEA)
        self.payments_import()
        for plan, commitment, month, first in self.unbilled:  # December's, rattached
            commitment.refresh_from_db()
            if commitment.state == Commitment.State.OPEN:
                self.contract_invoice(plan, commitment, month, first)
        for transfer in fiscal_year.transfers.filter(state="requested").order_by("pk"):
            self.transfer_approve(transfer)
        waiting = Invoice.objects.filter(
            fiscal_year=fiscal_year, state__in=(Invoice.State.ENTERED, Invoice.State.TO_VALIDATE)
        )
        for invoice in waiting.order_by("pk"):
            if invoice.state == Invoice.State.ENTERED:
                invoice = invoice_services.invoice_liquidate(
                    user=self.users["accountant"], invoice=invoice
                )
            if invoice.state == Invoice.State.TO_VALIDATE:
                invoice_services.invoice_validate(user=self.users["head"], invoice=invoice)
        pending = PurchaseRequest.objects.filter(
            fiscal_year=fiscal_year,
            state__in=(PurchaseRequest.State.DRAFT, PurchaseRequest.State.SUBMITTED),
        )
        for request in pending.order_by("pk"):
            request_services.purchase_request_cancel(
                user=self.users["buyer"],
                request=request,
                reason=f"Exercice {self.year} clos : besoin à présenter sur l'exercice suivant.",
            )
        still_open = Commitment.objects.filter(fiscal_year=fiscal_year, state=Commitment.State.OPEN)
        for commitment in still_open.order_by("pk"):
            commitment_services.commitment_close(
                user=self.users["head"],
                commitment=commitment,
                reason=f"Clôture de l'exercice {self.year} : reliquat non exécuté libéré.",
            )

    # Recurring contracts and direct invoices

    def contract_open(self, plan: ContractPlan) -> None:
        supplier = self.supplier(plan.supplier)
        if supplier is None:
            return
        commitment = commitment_services.commitment_open_recurring(
            user=self.users["head"],
            supplier=supplier,
            subject=plan.subject,
            period_start=date(self.year, 1, 1),
            period_end=date(self.year, 12, 31),
            lines=[
                commitment_services.LineSpec(
                    budget_line=plan.line, description=plan.subject, amount=plan.yearly
                )
            ],
        )
        ended = CLOSED_EARLY.get(plan.line.code)
        last_month = ended[0] - 1 if ended else 12
        first = 1  # the first month the next invoice bills
        for month in range(1, last_month + 1):
            if (month + self.contracts) % self.billing and month != last_month:
                continue
            billed = _month_end(self.year, month)
            received = _work_moment(billed + timedelta(days=self.rng.randint(2, 8)), self.rng)
            if received > self.limit:
                self.unbilled.append((plan, commitment, month, first))
            self.at(received, self.contract_invoice, plan, commitment, month, first)
            first = month + 1
        self.contracts += 1
        if ended:
            closing = _work_moment(date(self.year, ended[0], 25), self.rng)
            self.at(closing, self.commitment_close, commitment.pk, ended[1])

    def contract_invoice(
        self, plan: ContractPlan, commitment: Commitment, month: int, first: int
    ) -> None:
        """The invoice of the months `first` to `month` (one month, or a quarter)."""
        line = commitment.lines.select_related("budget_line__nature_account").get()
        monthly = plan.yearly // 12
        months = month - first + 1
        if plan.variable:
            amount = int(monthly * months * self.rng.uniform(0.88, 1.12))
        else:  # December's invoice takes the rounding
            amount = monthly * months + (plan.yearly - 12 * monthly if month == 12 else 0)
        rate = _buying(line.budget_line)[1]
        period = MONTHS[month - 1] if months == 1 else f"{MONTHS[first - 1]} à {MONTHS[month - 1]}"
        self.invoice_enter(
            supplier_key=plan.supplier,
            commitment=commitment,
            lines=[
                {
                    "description": f"{plan.subject} – {period} {self.year}",
                    "amount_ht": amount,
                    "tax_rate": rate,
                    "commitment_line": line,
                }
            ],
            twists=frozenset({"unpaid"}) if self.rng.random() < 0.03 else frozenset(),
            invoice_date=min(self.today, _month_end(self.year, month)),
        )

    def direct_enter(self, plan: DirectPlan) -> None:
        self.invoice_enter(
            supplier_key=plan.supplier,
            lines=[
                {
                    "description": plan.description,
                    "amount_ht": plan.amount,
                    "tax_rate": plan.rate,
                    "budget_line": plan.line,
                }
            ],
            cancel=(
                "Facture adressée par erreur à la DSI : transmise à la direction concernée."
                if plan.cancelled
                else ""
            ),
        )


def _month_end(year: int, month: int) -> date:
    return (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _limit(today: date | None) -> datetime:
    """The last moment played: now, or the end of working hours of `today` when given."""
    now = timezone.now()
    if today is None or today == timezone.localdate(now):
        return now
    return datetime.combine(today, time(17, 0), tzinfo=NOUMEA)


@transaction.atomic
def seed_procurement(
    fiscal_year: FiscalYear,
    users: dict,
    *,
    today: date | None = None,
    volume: float = 1.0,
    on_month: Callable[[int, ProcurementSeedResult], None] | None = None,
) -> ProcurementSeedResult:
    """Play the year's procurement up to now (or `today`) through the services.

    `users` maps "buyer" (achat), "head" (pilotage), "accountant" (comptabilite) and
    "director" (direction) to the people who act. Idempotent: a year that already has
    purchase requests is left alone. All or nothing (one transaction). A past year
    (before today's) is played to its 31 December, then its purchasing is closed
    (`_Player.year_end`), ready for the year's closing; its contracts are billed by
    quarter; `volume` scales its number of requests (procurement_plan).
    `on_month(month, counts so far)` follows the play, month after month.
    """
    started = timezone.now()
    result = ProcurementSeedResult(year=fiscal_year.year)
    if fiscal_year.state != FiscalYear.State.OPEN:
        result.skipped = "closed"
        return result
    if PurchaseRequest.objects.filter(fiscal_year=fiscal_year).exists():
        result.skipped = "existing"
        return result
    past = fiscal_year.year < (today or timezone.localdate()).year
    if past:
        today = date(fiscal_year.year, 12, 31)
    if past:
        plan = procurement_plan(
            fiscal_year, volume=volume, spend=PAST_REQUEST_SPEND, contracts_extra=0.05
        )
    else:
        plan = procurement_plan(fiscal_year, volume=volume)
    # A past year's contracts are billed by quarter (staggered): a third of the invoices.
    player = _Player(
        year=fiscal_year.year, users=users, limit=_limit(today), billing=3 if past else 1
    )
    player.at(plan.start, player.create_suppliers)
    for contract in plan.contracts:
        player.at(
            _work_moment(date(fiscal_year.year, 1, 5), player.rng), player.contract_open, contract
        )
    for request in plan.requests:
        player.at(request.created, player.request_create, request)
    for direct in plan.directs:
        player.at(_work_moment(direct.received, player.rng), player.direct_enter, direct)
    monday = date(fiscal_year.year, 1, 12)
    while monday.year == fiscal_year.year:
        monday_morning = datetime.combine(monday - timedelta(monday.weekday()), time(7, 45))
        player.at(monday_morning.replace(tzinfo=NOUMEA), player.payments_import)
        monday += timedelta(days=7)

    def month_played(month: int) -> None:
        on_month(month, _count(result, fiscal_year, player))

    player.play(month_played if on_month else None)
    if past:
        with player.clock():
            player.year_end(fiscal_year)
    _count(result, fiscal_year, player)
    result.seconds = round((timezone.now() - started).total_seconds(), 1)
    return result


def _count(
    result: ProcurementSeedResult, fiscal_year: FiscalYear, player: _Player
) -> ProcurementSeedResult:
    """`result` with the year's documents counted in the database."""
    result.suppliers = len(player.suppliers)
    result.requests = PurchaseRequest.objects.filter(fiscal_year=fiscal_year).count()
    result.commitments = Commitment.objects.filter(fiscal_year=fiscal_year).count()
    result.orders = PurchaseOrder.objects.filter(fiscal_year=fiscal_year).count()
    result.receipts = Receipt.objects.filter(commitment__fiscal_year=fiscal_year).count()
    result.invoices = Invoice.objects.filter(fiscal_year=fiscal_year).count()
    return result


# The demo's cast, by what they do here, and what each needs.
ACTORS = {
    "buyer": ("acheteur", ("enter_purchase_request", "manage_supplier", "record_order", "record_receipt")),
    "head": ("chef", ("approve_purchase_request", "open_commitment", "validate_liquidation", "request_transfer")),
    "accountant": ("comptable", ("enter_invoice", "liquidate_invoice")),
    "director": ("directeur", ("approve_over_threshold", "override_available", "approve_transfer")),
}  # fmt: skip


def demo_procurement_actors() -> dict | None:
    """The demo users by what they do here, when all exist, are active and hold what it needs."""
    from dsi_finance.roles import perm

    wanted = {username for username, _capabilities in ACTORS.values()}
    found = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=wanted, is_active=True)
    }
    actors = {}
    for role, (username, capabilities) in ACTORS.items():
        user = found.get(username)
        if user is None or not all(user.has_perm(perm(c)) for c in capabilities):
            return None
        actors[role] = user
    return actors


def seed_demo_procurement(
    *,
    today: date | None = None,
    fiscal_year: int | None = None,
    volume: float = 1.0,
    on_month: Callable[[int, ProcurementSeedResult], None] | None = None,
) -> ProcurementSeedResult | None:
    """The demo's procurement in the current year (the year of today in Noumea), or in
    `fiscal_year` (a past year is played whole and its purchasing closed: see
    seed_procurement), with the demo users as actors; None when the actors or the open
    year are missing. `on_month`: see seed_procurement."""
    actors = demo_procurement_actors()
    number = fiscal_year or (today or timezone.localdate()).year
    year = FiscalYear.objects.filter(year=number).first()
    if actors is None or year is None:
        return None
    return seed_procurement(year, actors, today=today, volume=volume, on_month=on_month)
