"""The demo budget: the IT department (DSI) of a New Caledonian public operator.

Three fiscal years: the current one (the year of today's date in Noumea) with its
BP and DM1 voted and the year open, and the two before it with BP, DM1 and DM2
voted and the year closed. About 150 lines per year over operating (OPEX) and
investment (CAPEX) credits, in XPF, on the chapters and accounts of the M-type
charts, with a few approved transfers.

The figures come from fixed tables; past years and their amending decisions are
derived from them with random generators seeded by the year, so two runs build
the same budget. `demo_plan()` is that pure description; `seed_demo_budget()`
applies it through budgets.services (the only way to write credits), with the
demo users as actors: the section head prepares and requests, the IT director
submits, votes and approves.

Each decision is taken with the services' clock set to its planned date (the
revisions prepared, submitted and voted around their vote dates, the transfers
requested and decided on theirs), so that the ledger entries are dated as the
plan says and "last year at the same date" reads last year's credits.

No commitment or liquidation is seeded here: they need the purchase documents
(requests, orders, invoices) of the procurement app (procurement.demo), which
seeds them through the same credit services; `before_closing` lets the caller
play a past year's purchasing while that year is still open.
"""

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from . import services
from .models import (
    BudgetLine,
    BudgetRevision,
    Chapter,
    CostCentre,
    FiscalYear,
    NatureAccount,
    Project,
    Section,
)

# --- The nomenclature -------------------------------------------------------

CHAPTERS = (
    ("011", "Charges à caractère général", Section.OPERATING),
    ("65", "Autres charges de gestion courante", Section.OPERATING),
    ("20", "Immobilisations incorporelles", Section.INVESTMENT),
    ("21", "Immobilisations corporelles", Section.INVESTMENT),
    ("23", "Immobilisations en cours", Section.INVESTMENT),
)

ACCOUNTS = (
    ("60612", "Énergie – Électricité", "011"),
    ("6064", "Fournitures administratives", "011"),
    ("6068", "Autres matières et fournitures", "011"),
    ("60632", "Fournitures de petit équipement", "011"),
    ("611", "Contrats de prestations de services", "011"),
    ("6132", "Locations immobilières", "011"),
    ("6135", "Locations mobilières", "011"),
    ("6152", "Entretien et réparations sur biens immobiliers", "011"),
    ("6155", "Entretien et réparations sur biens mobiliers", "011"),
    ("6156", "Maintenance", "011"),
    ("616", "Primes d'assurances", "011"),
    ("617", "Études et recherches", "011"),
    ("6182", "Documentation générale et technique", "011"),
    ("6184", "Versements à des organismes de formation", "011"),
    ("6185", "Frais de colloques et séminaires", "011"),
    ("6226", "Honoraires", "011"),
    ("6228", "Rémunérations d'intermédiaires et honoraires divers", "011"),
    ("6251", "Voyages et déplacements", "011"),
    ("6262", "Frais de télécommunications", "011"),
    ("6281", "Concours divers (cotisations)", "011"),
    ("6288", "Autres services extérieurs", "011"),
    (
        "651",
        "Redevances pour concessions, brevets, licences, logiciels, droits et valeurs similaires",
        "65",
    ),
    ("2031", "Frais d'études", "20"),
    ("2051", "Concessions et droits similaires (logiciels)", "20"),
    ("2088", "Autres immobilisations incorporelles", "20"),
    ("2135", "Installations générales, agencements, aménagements des constructions", "21"),
    ("2183", "Matériel de bureau et matériel informatique", "21"),
    ("2184", "Mobilier", "21"),
    ("2188", "Autres immobilisations corporelles", "21"),
    ("2313", "Constructions en cours", "23"),
    ("2315", "Installations, matériel et outillage techniques en cours", "23"),
    ("238", "Avances versées sur commandes d'immobilisations corporelles", "23"),
)

COST_CENTRES = (
    ("DIR", "Direction et pilotage"),
    ("INFRA", "Infrastructures et exploitation"),
    ("APPLI", "Applications métiers"),
    ("DATA", "Données et décisionnel"),
    ("RESEAU", "Réseaux et télécoms"),
    ("POSTE", "Poste de travail et support"),
    ("SECU", "Sécurité des SI"),
    ("WEB", "Services numériques aux usagers"),
    ("SITES", "Sites de Brousse et des Îles"),
)


@dataclass(frozen=True)
class DemoProject:
    code: str
    label: str
    years: tuple[int, ...]  # offsets from the current year in which it has credits

    @property
    def is_active(self) -> bool:
        return 0 in self.years


PROJECTS = (
    DemoProject("PRJ-SIRH", "Refonte du système d'information des ressources humaines", (-1, 0)),
    DemoProject("PRJ-DC2", "Second datacentre (plan de reprise d'activité)", (-1, 0)),
    DemoProject("PRJ-M365", "Migration de la messagerie vers Microsoft 365", (-2, -1, 0)),
    DemoProject("PRJ-SOC", "Centre opérationnel de sécurité (SOC)", (0,)),
    DemoProject("PRJ-GED", "Gestion électronique des documents", (-1, 0)),
    DemoProject("PRJ-PORTAIL", "Nouveau portail des usagers", (-1, 0)),
    DemoProject("PRJ-FIBRE", "Raccordement des agences en fibre optique", (-2, -1, 0)),
    DemoProject("PRJ-TOIP", "Téléphonie sur IP", (-2, -1)),
)
PROJECT_BY_CODE = {project.code: project for project in PROJECTS}
ACCOUNT_CHAPTER = {number: chapter for number, _label, chapter in ACCOUNTS}
CHAPTER_SECTION = {code: section for code, _label, section in CHAPTERS}

# --- The budget lines -------------------------------------------------------
# (account, cost centre, project, label, BP amount of the current year in XPF,
#  years: offsets from the current year in which the line exists; None = every
#  year of the project, or the three years for a line without project)

ALL_YEARS = (-2, -1, 0)

# fmt: off
LINES = (
    # 011 Charges à caractère général
    ("60612", "INFRA", None, "Électricité du datacentre principal", 14_500_000, None),
    ("60612", "SITES", None, "Électricité des locaux techniques de Brousse et des Îles", 2_600_000, None),
    ("6064", "DIR", None, "Fournitures administratives de la DSI", 380_000, None),
    ("6068", "INFRA", None, "Consommables d'exploitation (cartouches LTO, câbles, visserie)", 1_650_000, None),
    ("6068", "POSTE", None, "Consommables d'impression et accessoires", 2_300_000, None),
    ("6068", "RESEAU", None, "Câbles, jarretières et connectique réseau", 850_000, None),
    ("60632", "POSTE", None, "Petit équipement informatique (claviers, souris, casques)", 3_200_000, None),
    ("60632", "RESEAU", None, "Petits équipements réseau (modules SFP, points d'accès d'appoint)", 1_150_000, None),
    ("60632", "INFRA", None, "Outillage et petit équipement de la salle serveurs", 560_000, None),
    ("60632", "SECU", None, "Clés de sécurité FIDO2 et lecteurs de cartes", 780_000, (-1, 0)),
    ("611", "INFRA", None, "Infogérance de l'exploitation de nuit et des astreintes", 13_800_000, None),
    ("611", "APPLI", None, "Tierce maintenance applicative (TMA) des applications métiers", 21_500_000, None),
    ("611", "POSTE", None, "Support de proximité externalisé (niveau 1)", 12_400_000, None),
    ("611", "SECU", None, "Supervision de sécurité externalisée", 6_900_000, None),
    ("611", "DATA", None, "Prestations d'intégration et de qualité des données", 4_300_000, None),
    ("611", "WEB", None, "Tierce maintenance du site institutionnel", 3_600_000, None),
    ("611", "RESEAU", None, "Prestations de câblage et de brassage", 2_100_000, None),
    ("611", "SITES", None, "Interventions de proximité en Brousse et dans les Îles", 3_400_000, None),
    ("611", "DIR", None, "Assistance à la passation des marchés informatiques", 1_800_000, None),
    ("611", "APPLI", "PRJ-SIRH", "Assistance à maîtrise d'ouvrage du SIRH", 5_800_000, None),
    ("611", "SECU", "PRJ-SOC", "Accompagnement à la mise en place du SOC", 4_900_000, None),
    ("611", "POSTE", "PRJ-M365", "Accompagnement au changement Microsoft 365", 3_200_000, None),
    ("611", "INFRA", "PRJ-DC2", "Transfert des baies vers le second datacentre", 4_100_000, (0,)),
    ("611", "APPLI", "PRJ-GED", "Reprise des archives numérisées dans la GED", 3_700_000, None),
    ("611", "WEB", "PRJ-PORTAIL", "Recette et accompagnement du portail des usagers", 2_400_000, None),
    ("611", "RESEAU", "PRJ-TOIP", "Déploiement de la téléphonie sur IP", 4_600_000, None),
    ("6132", "INFRA", None, "Colocation de baies en datacentre de secours", 7_200_000, None),
    ("6132", "SITES", None, "Locaux techniques de Koné, Lifou et Maré", 2_300_000, None),
    ("6132", "INFRA", "PRJ-DC2", "Location de la salle du second datacentre", 5_400_000, (0,)),
    ("6135", "INFRA", None, "Consommation cloud Microsoft Azure (IaaS)", 14_800_000, None),
    ("6135", "POSTE", None, "Location des copieurs multifonctions", 4_600_000, None),
    ("6135", "DATA", None, "Hébergement cloud de l'entrepôt de données", 2_300_000, (-1, 0)),
    ("6135", "WEB", None, "Hébergement cloud du site institutionnel", 2_700_000, None),
    ("6135", "SITES", None, "Location de groupes électrogènes pour les sites isolés", 1_050_000, None),
    ("6135", "DIR", None, "Location de véhicules de service", 1_250_000, None),
    ("6152", "INFRA", None, "Entretien de la salle serveurs (climatisation, faux plancher)", 3_500_000, None),
    ("6155", "POSTE", None, "Réparation des postes et portables hors garantie", 1_450_000, None),
    ("6156", "INFRA", None, "Maintenance matérielle des serveurs et du stockage", 16_200_000, None),
    ("6156", "RESEAU", None, "Maintenance des commutateurs et routeurs", 8_700_000, None),
    ("6156", "SECU", None, "Maintenance des pare-feux et des sondes", 6_100_000, None),
    ("6156", "POSTE", None, "Maintenance des imprimantes et du parc de postes", 2_050_000, None),
    ("6156", "APPLI", None, "Maintenance des progiciels métiers (finances, paie, relation usagers)", 21_000_000, None),
    ("6156", "DATA", None, "Maintenance de la plateforme décisionnelle", 4_100_000, None),
    ("6156", "WEB", None, "Maintenance du gestionnaire de contenu du site", 1_850_000, None),
    ("6156", "SITES", None, "Maintenance des onduleurs et climatiseurs des sites distants", 2_250_000, None),
    ("6156", "DIR", None, "Maintenance de l'outil de gestion de parc et de tickets", 2_700_000, None),
    ("6156", "APPLI", "PRJ-GED", "Maintenance de la GED", 1_900_000, (0,)),
    ("616", "INFRA", None, "Assurance du matériel du datacentre", 1_400_000, None),
    ("617", "DIR", None, "Schéma directeur des systèmes d'information", 8_200_000, (-1, 0)),
    ("617", "SECU", None, "Étude de maturité cyber (guide d'hygiène de l'ANSSI)", 2_900_000, None),
    ("617", "DATA", None, "Étude de gouvernance des données", 2_100_000, (0,)),
    ("617", "INFRA", "PRJ-DC2", "Étude d'implantation du second datacentre", 4_300_000, None),
    ("617", "APPLI", "PRJ-SIRH", "Étude d'urbanisation du SIRH", 1_500_000, None),
    ("6182", "DIR", None, "Documentation technique et abonnements", 410_000, None),
    ("6184", "DIR", None, "Formations au management et à la commande publique", 880_000, None),
    ("6184", "INFRA", None, "Formations techniques systèmes (VMware, Linux, sauvegarde)", 2_150_000, None),
    ("6184", "SECU", None, "Formations et certifications sécurité", 1_750_000, None),
    ("6184", "APPLI", None, "Formations aux progiciels métiers", 1_350_000, None),
    ("6184", "RESEAU", None, "Formations réseau (Cisco, Fortinet)", 1_250_000, None),
    ("6184", "DATA", None, "Formations décisionnel et données", 680_000, None),
    ("6184", "POSTE", None, "Formations des techniciens du support", 720_000, None),
    ("6184", "POSTE", "PRJ-M365", "Formation des utilisateurs à Microsoft 365", 2_400_000, None),
    ("6184", "APPLI", "PRJ-SIRH", "Formation des gestionnaires RH au nouveau SIRH", 1_900_000, (0,)),
    ("6185", "DIR", None, "Séminaires et salons professionnels", 580_000, None),
    ("6226", "DIR", None, "Assistance juridique sur les contrats informatiques", 1_450_000, None),
    ("6226", "SECU", None, "Audits de sécurité et tests d'intrusion", 5_300_000, None),
    ("6226", "APPLI", None, "Audit de licences et de conformité des éditeurs", 1_600_000, (-1, 0)),
    ("6251", "DIR", None, "Missions en métropole et en Australie", 2_500_000, None),
    ("6251", "SITES", None, "Déplacements vers les sites de Brousse et des Îles", 2_050_000, None),
    ("6251", "INFRA", None, "Déplacements pour interventions techniques", 780_000, None),
    ("6251", "RESEAU", "PRJ-FIBRE", "Déplacements de suivi des chantiers fibre", 650_000, None),
    ("6262", "RESEAU", None, "Liaisons inter-sites OPT-NC", 23_500_000, None),
    ("6262", "INFRA", None, "Accès Internet et bande passante internationale (câble Gondwana)", 11_800_000, None),
    ("6262", "POSTE", None, "Téléphonie mobile et forfaits de données", 6_400_000, None),
    ("6262", "SITES", None, "Liaisons fibre et radio des sites de Brousse et des Îles", 8_300_000, None),
    ("6262", "SECU", None, "Liaison satellite de secours", 2_600_000, None),
    ("6262", "WEB", None, "Bande passante dédiée du site institutionnel", 1_300_000, None),
    ("6262", "DIR", None, "Téléphonie fixe de la direction", 560_000, None),
    ("6262", "INFRA", "PRJ-DC2", "Fibre noire entre les deux datacentres", 9_400_000, (0,)),
    ("6262", "RESEAU", "PRJ-FIBRE", "Abonnements des agences raccordées en fibre", 2_800_000, None),
    ("6281", "DIR", None, "Cotisations professionnelles (associations de DSI, CLUSIF)", 480_000, None),
    ("6288", "SECU", None, "Certificats électroniques et horodatage", 620_000, None),
    ("6288", "APPLI", None, "Plateformes d'échanges dématérialisés (signature, parapheur)", 1_100_000, None),
    # 65 Autres charges de gestion courante
    ("651", "POSTE", None, "Licences Microsoft 365 (abonnements)", 29_000_000, None),
    ("651", "APPLI", None, "Licences et support Oracle Database", 17_200_000, None),
    ("651", "INFRA", None, "Licences et support VMware vSphere", 12_600_000, None),
    ("651", "SECU", None, "Abonnements EDR et antivirus", 7_200_000, None),
    ("651", "DATA", None, "Abonnements Power BI et outils de données", 3_400_000, None),
    ("651", "WEB", None, "Abonnements SaaS du site (formulaires, paiement en ligne)", 2_800_000, None),
    ("651", "RESEAU", None, "Licences de supervision réseau", 1_750_000, None),
    ("651", "DIR", None, "Abonnement de l'outil de gestion des services (ITSM)", 2_350_000, None),
    ("651", "SITES", None, "Licences de télégestion des sites isolés", 520_000, None),
    ("651", "APPLI", "PRJ-SIRH", "Abonnement SaaS du nouveau SIRH", 9_200_000, (0,)),
    ("651", "SECU", "PRJ-SOC", "Abonnement SIEM du SOC", 7_800_000, None),
    ("651", "POSTE", "PRJ-M365", "Licences Microsoft 365 E5 Sécurité (extension)", 5_600_000, (-1, 0)),
    ("651", "APPLI", "PRJ-GED", "Abonnement de la plateforme de GED", 2_900_000, None),
    ("651", "WEB", "PRJ-PORTAIL", "Abonnement de la plateforme du portail des usagers", 2_200_000, (0,)),
    # 20 Immobilisations incorporelles
    ("2031", "DIR", None, "Études préalables aux investissements", 2_900_000, None),
    ("2031", "APPLI", "PRJ-SIRH", "Études de cadrage du SIRH", 2_400_000, None),
    ("2031", "INFRA", "PRJ-DC2", "Études de conception du second datacentre", 6_300_000, None),
    ("2031", "RESEAU", "PRJ-FIBRE", "Études d'ingénierie du réseau fibre", 1_800_000, None),
    ("2051", "APPLI", None, "Acquisition de licences de progiciels métiers", 11_500_000, None),
    ("2051", "INFRA", None, "Licences perpétuelles d'infrastructure (sauvegarde, supervision)", 8_200_000, None),
    ("2051", "SECU", None, "Licences de sécurité (coffre-fort de mots de passe, bastion)", 5_400_000, None),
    ("2051", "DATA", None, "Licences de l'outil d'intégration de données (ETL)", 3_100_000, None),
    ("2051", "WEB", None, "Licences du gestionnaire de contenu", 1_450_000, None),
    ("2051", "POSTE", None, "Licences Windows et outils de déploiement", 4_000_000, None),
    ("2051", "RESEAU", None, "Licences SD-WAN", 2_700_000, (-1, 0)),
    ("2051", "APPLI", "PRJ-SIRH", "Licences du progiciel SIRH", 17_500_000, None),
    ("2051", "APPLI", "PRJ-GED", "Licences de la GED", 7_200_000, None),
    ("2051", "SECU", "PRJ-SOC", "Licences des sondes de détection", 6_500_000, None),
    ("2051", "POSTE", "PRJ-M365", "Outils de migration des boîtes aux lettres", 1_900_000, None),
    ("2051", "RESEAU", "PRJ-TOIP", "Licences de l'autocommutateur IP", 3_300_000, None),
    ("2088", "APPLI", None, "Développements spécifiques des applications métiers", 8_700_000, None),
    ("2088", "DATA", None, "Développement des tableaux de bord décisionnels", 4_300_000, None),
    ("2088", "WEB", None, "Évolutions du site institutionnel", 2_600_000, None),
    ("2088", "APPLI", "PRJ-SIRH", "Paramétrage et reprise des données du SIRH", 13_500_000, (0,)),
    ("2088", "APPLI", "PRJ-GED", "Intégration de la GED aux applications métiers", 7_700_000, None),
    ("2088", "WEB", "PRJ-PORTAIL", "Développement du portail des usagers", 15_400_000, None),
    # 21 Immobilisations corporelles
    ("2135", "INFRA", None, "Aménagement de la salle serveurs", 5_800_000, None),
    ("2135", "SITES", None, "Aménagement des locaux techniques distants", 2_900_000, None),
    ("2183", "POSTE", None, "Renouvellement des postes de travail", 28_000_000, None),
    ("2183", "INFRA", None, "Serveurs et baies de stockage", 22_000_000, None),
    ("2183", "RESEAU", None, "Commutateurs et routeurs", 14_000_000, None),
    ("2183", "SECU", None, "Pare-feux nouvelle génération", 10_600_000, None),
    ("2183", "SITES", None, "Équipement informatique des antennes de Brousse et des Îles", 6_300_000, None),
    ("2183", "DIR", None, "Matériel de visioconférence des salles de réunion", 3_100_000, None),
    ("2183", "DATA", None, "Serveurs de la plateforme décisionnelle", 4_800_000, None),
    ("2183", "WEB", None, "Bornes d'accueil numérique des usagers", 4_600_000, None),
    ("2183", "APPLI", None, "Serveurs applicatifs dédiés aux progiciels", 5_200_000, None),
    ("2183", "INFRA", "PRJ-DC2", "Serveurs et stockage du second datacentre", 24_000_000, (0,)),
    ("2183", "SECU", "PRJ-SOC", "Serveurs de collecte des journaux du SOC", 7_200_000, None),
    ("2183", "RESEAU", "PRJ-FIBRE", "Équipements actifs des agences raccordées en fibre", 5_800_000, None),
    ("2183", "RESEAU", "PRJ-TOIP", "Téléphones IP et passerelles", 8_500_000, None),
    ("2184", "DIR", None, "Mobilier des bureaux de la DSI", 1_750_000, None),
    ("2188", "INFRA", None, "Onduleurs et batteries du datacentre", 9_200_000, None),
    ("2188", "SITES", None, "Onduleurs et climatiseurs des sites distants", 4_100_000, None),
    ("2188", "RESEAU", None, "Bornes Wi-Fi et contrôleurs", 5_600_000, None),
    ("2188", "SECU", None, "Contrôle d'accès et vidéoprotection de la salle serveurs", 3_400_000, None),
    ("2188", "POSTE", None, "Écrans, stations d'accueil et périphériques", 5_300_000, None),
    ("2188", "INFRA", "PRJ-DC2", "Climatisation, onduleurs et groupe électrogène du second datacentre", 18_500_000, (0,)),
    ("2188", "RESEAU", "PRJ-TOIP", "Équipements de téléphonie des agences", 6_200_000, None),
    # 23 Immobilisations en cours
    ("2313", "INFRA", "PRJ-DC2", "Travaux de construction du second datacentre", 35_000_000, (0,)),
    ("2313", "SITES", None, "Construction du local technique de Koné", 8_500_000, (0,)),
    ("2315", "RESEAU", "PRJ-FIBRE", "Génie civil et tirage de fibre optique vers les agences", 14_000_000, None),
    ("2315", "INFRA", "PRJ-DC2", "Câblage et urbanisation des salles du second datacentre", 6_200_000, (0,)),
    ("2315", "SITES", None, "Pylônes et liaisons radio des sites isolés", 7_800_000, None),
    ("2315", "INFRA", None, "Urbanisation et câblage de la salle serveurs principale", 4_200_000, None),
    ("238", "INFRA", "PRJ-DC2", "Avances sur le marché de travaux du second datacentre", 5_000_000, (0,)),
)

# --- The current year's DM1: fixed changes, and a few new lines ------------

DM1_CHANGES = (
    ("F-651-POSTE", 2_400_000, "Hausse du tarif Microsoft au 1er juillet et 40 licences de plus"),
    ("F-6262-INFRA", 1_800_000, "Doublement de la bande passante internationale (câble Gondwana)"),
    ("F-6135-INFRA", 3_500_000, "Consommation Azure au-dessus de la prévision (sauvegardes externalisées)"),
    ("F-6156-INFRA", 1_200_000, "Contrat de maintenance étendu aux serveurs acquis en début d'année"),
    ("F-60612-INFRA", 900_000, "Hausse du tarif de l'électricité"),
    ("F-6226-SECU", 2_000_000, "Test d'intrusion du portail des usagers avant sa mise en ligne"),
    ("F-6184-SECU", 600_000, "Certifications supplémentaires pour l'équipe du SOC"),
    ("F-611-APPLI", -2_000_000, "TMA : économie obtenue à la renégociation du marché"),
    ("F-617-DIR", -3_000_000, "Schéma directeur : phase 2 reportée à l'exercice suivant"),
    ("F-6251-DIR", -500_000, "Missions en métropole remplacées par des visioconférences"),
    ("F-6135-POSTE", -800_000, "Parc de copieurs réduit de six appareils"),
    ("I-2183-INFRA", 4_500_000, "Remplacement anticipé d'une baie de stockage en fin de support"),
    ("I-2051-APPLI-SIRH", 3_000_000, "Module de paie ajouté au périmètre du SIRH"),
    ("I-2183-POSTE", -6_000_000, "Seconde vague de renouvellement reportée (délais d'approvisionnement)"),
    ("I-2313-INFRA-DC2", -8_000_000, "Démarrage des travaux du second datacentre décalé au quatrième trimestre"),
    ("I-2188-INFRA", -1_500_000, "Onduleurs : offre retenue inférieure à l'estimation"),
)

DM1_NEW_LINES = (
    ("6228", "SECU", None, "Réponse à incident de sécurité (prestataire spécialisé)", 3_500_000,
     "Incident de sécurité de mars : intervention d'un prestataire de réponse à incident"),
    ("6135", "SECU", None, "Location d'une solution de sauvegarde déconnectée", 1_600_000,
     "Sauvegarde hors ligne recommandée par l'audit de sécurité"),
    ("6184", "WEB", None, "Formation à l'accessibilité numérique (RGAA)", 450_000,
     "Mise en conformité du portail des usagers avec le RGAA"),
    ("2051", "DIR", None, "Outil de gestion du portefeuille de projets", 2_800_000,
     "Pilotage des projets du schéma directeur"),
    ("2188", "RESEAU", "PRJ-FIBRE", "Répartiteurs optiques des agences", 2_200_000,
     "Agences de Bourail et de Poindimié ajoutées au raccordement"),
)

# --- Transfers (virements): every year, between lines that exist every year --
# (source, target, amount, reason, (month, day) of the request, decided the next day)

TRANSFERS = (
    ("F-6251-DIR", "F-6184-DIR", 300_000,
     "Formation à la conduite de projet financée par l'économie sur les missions", (3, 12)),
    ("F-6068-POSTE", "F-60632-POSTE", 450_000,
     "Casques pour la visioconférence au lieu de consommables d'impression", (5, 19)),
    ("I-2184-DIR", "I-2183-DIR", 600_000, "Écran interactif pour la salle de crise", (9, 8)),
    ("F-6155-POSTE", "F-6156-POSTE", 350_000,
     "Contrat de maintenance des portables plutôt que des réparations à l'unité", (10, 13)),
)
# The current year also has one transfer waiting for a decision and one rejected.
PENDING_TRANSFER = (
    "F-617-SECU", "F-611-APPLI", 1_200_000, "Renfort de la TMA pendant la clôture annuelle",
    (11, 16),
)
REJECTED_TRANSFER = (
    "I-2135-SITES", "I-2183-SITES", 1_000_000, "Portables durcis pour les techniciens des Îles",
    (10, 2), "À présenter à la DM2 : l'aménagement du local de Lifou reste prioritaire.",
)
# fmt: on

# Past years' amending decisions: drawn from these, with a generator seeded by the year.
RAISE_REASONS = (
    "Hausse du tarif de l'éditeur",
    "Besoin supplémentaire apparu en cours d'exercice",
    "Périmètre du contrat étendu",
    "Révision du prix du marché (indice)",
    "Parc plus important que prévu",
)
CUT_REASONS = (
    "Économie obtenue à la mise en concurrence",
    "Opération reportée à l'exercice suivant",
    "Ajustement au réalisé",
    "Besoin couvert par un autre marché",
)

VOTE_NUMBERS = {"BP": 87, "DM1": 41, "DM2": 79}


# --- The plan: a pure description of each year ----------------------------


@dataclass(frozen=True)
class PlannedLine:
    code: str
    label: str
    account: str
    cost_centre: str
    project: str | None
    amount: int  # BP amount, or the DM1 amount of a line the DM1 creates

    @property
    def section(self) -> str:
        return CHAPTER_SECTION[ACCOUNT_CHAPTER[self.account]]


@dataclass(frozen=True)
class PlannedChange:
    code: str
    amount: int
    justification: str


@dataclass(frozen=True)
class PlannedRevision:
    kind: str
    vote_date: date
    vote_reference: str
    changes: tuple[PlannedChange, ...] = ()
    new_lines: tuple[PlannedLine, ...] = ()


@dataclass(frozen=True)
class PlannedTransfer:
    source: str
    target: str
    amount: int
    reason: str
    requested_on: date
    state: str = "approved"
    note: str = ""


@dataclass(frozen=True)
class YearPlan:
    year: int
    closed: bool
    lines: tuple[PlannedLine, ...]
    revisions: tuple[PlannedRevision, ...]
    transfers: tuple[PlannedTransfer, ...]


def line_code(account: str, cost_centre: str, project: str | None) -> str:
    """F-6156-INFRA, I-2183-INFRA-DC2: section, account, cost centre (and project)."""
    section = CHAPTER_SECTION[ACCOUNT_CHAPTER[account]]
    code = f"{section}-{account}-{cost_centre}"
    return f"{code}-{project.removeprefix('PRJ-')}" if project else code


def _round(amount: float) -> int:
    """Budgets are voted in round figures: to 10 000 F, to 1 000 F below a million."""
    step = 10_000 if abs(amount) >= 1_000_000 else 1_000
    return round(amount / step) * step


def _vote_reference(kind: str, vote_date: date) -> str:
    number = VOTE_NUMBERS[kind] + vote_date.year % 7
    return f"Délibération n° {vote_date.year}-{number:03d} du CA"


def _planned(account, centre, project, label, amount) -> PlannedLine:
    return PlannedLine(line_code(account, centre, project), label, account, centre, project, amount)


def _lines_of(offset: int) -> list[PlannedLine]:
    """The BP lines of the year at `offset` from the current one, with their amounts.

    Past years' amounts are the current ones deflated by about 4 % a year and
    varied line by line (± 12 %), with a generator seeded by the line's code.
    """
    lines = []
    for account, centre, project, label, amount, years in LINES:
        if years is None:
            years = PROJECT_BY_CODE[project].years if project else ALL_YEARS
        if offset not in years:
            continue
        code = line_code(account, centre, project)
        if offset:
            rng = random.Random(f"demo-budget:{offset}:{code}")  # noqa: S311 (demo figures)
            amount = _round(amount * (1 + 0.04 * offset) * rng.uniform(0.88, 1.12))
        lines.append(_planned(account, centre, project, label, amount))
    return lines


def _past_changes(lines: list[PlannedLine], kind: str, offset: int) -> tuple[PlannedChange, ...]:
    """A past year's DM: about a dozen lines up or down by 5 to 20 %, in code order."""
    rng = random.Random(f"demo-budget:{offset}:{kind}")  # noqa: S311 (demo figures)
    count = 14 if kind == "DM1" else 9
    changes = []
    for line in sorted(rng.sample(lines, count), key=lambda line: line.code):
        rate = rng.uniform(0.05, 0.20)
        if rng.random() < 0.6:
            changes.append(
                PlannedChange(line.code, _round(line.amount * rate), rng.choice(RAISE_REASONS))
            )
        else:
            changes.append(
                PlannedChange(line.code, -_round(line.amount * rate), rng.choice(CUT_REASONS))
            )
    return tuple(changes)


def _planned_day(year: int, month_day: tuple[int, int], today: date) -> date:
    """A planned day of the year; in the current year, today at the latest."""
    return min(date(year, *month_day), today) if year == today.year else date(year, *month_day)


def demo_plan(today: date) -> list[YearPlan]:
    """The three demo years, oldest first, for a current year of `today.year`."""
    current = today.year
    plans = []
    for offset in (-2, -1, 0):
        year = current + offset
        lines = _lines_of(offset)
        bp_date = date(year - 1, 12, 11)
        bp = PlannedRevision("BP", bp_date, _vote_reference("BP", bp_date))
        transfers = [
            PlannedTransfer(*row[:4], requested_on=_planned_day(year, row[4], today))
            for row in TRANSFERS
        ]
        if offset:
            dm1_date, dm2_date = date(year, 6, 26), date(year, 11, 20)
            revisions = (
                bp,
                PlannedRevision(
                    "DM1",
                    dm1_date,
                    _vote_reference("DM1", dm1_date),
                    changes=_past_changes(lines, "DM1", offset),
                ),
                PlannedRevision(
                    "DM2",
                    dm2_date,
                    _vote_reference("DM2", dm2_date),
                    changes=_past_changes(lines, "DM2", offset),
                ),
            )
        else:
            # Seeded early in the year, the DM1 is dated today rather than in the future.
            dm1_date = min(date(year, 6, 26), today)
            new_lines = tuple(_planned(*row[:5]) for row in DM1_NEW_LINES)
            changes = tuple(PlannedChange(*row) for row in DM1_CHANGES) + tuple(
                PlannedChange(line.code, line.amount, row[5])
                for line, row in zip(new_lines, DM1_NEW_LINES, strict=True)
            )
            revisions = (
                bp,
                PlannedRevision(
                    "DM1",
                    dm1_date,
                    _vote_reference("DM1", dm1_date),
                    changes=changes,
                    new_lines=new_lines,
                ),
            )
            transfers.append(
                PlannedTransfer(
                    *PENDING_TRANSFER[:4],
                    requested_on=_planned_day(year, PENDING_TRANSFER[4], today),
                    state="requested",
                )
            )
            transfers.append(
                PlannedTransfer(
                    *REJECTED_TRANSFER[:4],
                    requested_on=_planned_day(year, REJECTED_TRANSFER[4], today),
                    state="rejected",
                    note=REJECTED_TRANSFER[5],
                )
            )
        plans.append(
            YearPlan(
                year=year,
                closed=offset < 0,
                lines=tuple(lines),
                revisions=revisions,
                transfers=tuple(transfers),
            )
        )
    return plans


# --- Applying the plan through the services --------------------------------


@dataclass
class BudgetSeedResult:
    created: list[int] = field(default_factory=list)  # the years created
    existing: list[int] = field(default_factory=list)  # the years left alone
    lines: int = 0
    revisions: int = 0
    transfers: int = 0


@dataclass(frozen=True)
class YearSeeded:
    """One year's budget as seeded, for the seed's progress lines."""

    year: int
    lines: int
    revisions: tuple[str, ...]  # the kinds voted, in order: BP, DM1, DM2
    transfers: int  # approved
    pending_transfers: int
    closing: bool  # closed on 31 December, after its purchasing (a past year)


def seed_nomenclature() -> None:
    """Chapters, accounts, cost centres and projects, found or created by their codes."""
    chapters = {}
    for code, label, section in CHAPTERS:
        chapters[code], _created = Chapter.objects.get_or_create(
            code=code, defaults={"label": label, "section": section}
        )
    for number, label, chapter in ACCOUNTS:
        NatureAccount.objects.get_or_create(
            number=number, defaults={"label": label, "chapter": chapters[chapter]}
        )
    for code, label in COST_CENTRES:
        CostCentre.objects.get_or_create(code=code, defaults={"label": label})
    for project in PROJECTS:
        Project.objects.get_or_create(
            code=project.code, defaults={"label": project.label, "is_active": project.is_active}
        )


def _create_lines(plan_lines, *, fiscal_year, preparer, refs) -> dict[str, BudgetLine]:
    accounts, centres, projects = refs
    return {
        planned.code: services.budget_line_create(
            user=preparer,
            fiscal_year=fiscal_year,
            code=planned.code,
            label=planned.label,
            nature_account=accounts[planned.account],
            cost_centre=centres[planned.cost_centre],
            project=projects[planned.project] if planned.project else None,
        )
        for planned in plan_lines
    }


NOUMEA = ZoneInfo("Pacific/Noumea")


@contextmanager
def clock(day: date, at: time) -> Iterator[None]:
    """django.utils.timezone.now returns `day` at `at` in Nouméa (now at the latest), so
    that what the services write (ledger entries, votes, decisions) carries the planned date."""
    moment = min(datetime.combine(day, at, tzinfo=NOUMEA).astimezone(UTC), timezone.now())
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def _vote(planned: PlannedRevision, items, *, fiscal_year, preparer, director) -> BudgetRevision:
    """Prepare (section head) two weeks before, submit a week before and vote (IT director)
    one revision on its vote date: its credits are opened that day."""
    with clock(planned.vote_date - timedelta(days=14), time(9, 0)):
        revision = services.revision_create(
            user=preparer, fiscal_year=fiscal_year, kind=planned.kind
        )
        for line, amount, justification in items:
            services.revision_item_set(
                user=preparer,
                revision=revision,
                budget_line=line,
                amount=amount,
                justification=justification,
            )
    with clock(planned.vote_date - timedelta(days=7), time(9, 0)):
        services.revision_submit(user=director, revision=revision)
    with clock(planned.vote_date, time(10, 0)):
        return services.revision_vote(
            user=director,
            revision=revision,
            vote_date=planned.vote_date,
            vote_reference=planned.vote_reference,
        )


def _transfer(planned: PlannedTransfer, *, fiscal_year, preparer, director) -> None:
    """Requested on its day, decided the next (or still waiting)."""
    with clock(planned.requested_on, time(9, 30)):
        transfer = services.transfer_request(
            user=preparer,
            source=BudgetLine.objects.get(fiscal_year=fiscal_year, code=planned.source),
            target=BudgetLine.objects.get(fiscal_year=fiscal_year, code=planned.target),
            amount=planned.amount,
            reason=planned.reason,
        )
    with clock(planned.requested_on + timedelta(days=1), time(11, 0)):
        if planned.state == "approved":
            services.transfer_approve(user=director, transfer=transfer)
        elif planned.state == "rejected":
            services.transfer_reject(user=director, transfer=transfer, note=planned.note)


def _seed_year(
    plan: YearPlan,
    *,
    preparer,
    director,
    refs,
    result: BudgetSeedResult,
    before_closing: Callable[[FiscalYear], None] | None = None,
    on_year: Callable[[YearSeeded], None] | None = None,
) -> None:
    bp, *amending = plan.revisions
    with clock(bp.vote_date - timedelta(days=21), time(8, 30)):
        fiscal_year = services.fiscal_year_create(user=preparer, year=plan.year)
        lines = _create_lines(plan.lines, fiscal_year=fiscal_year, preparer=preparer, refs=refs)
    _vote(
        bp,
        [(lines[p.code], p.amount, "") for p in plan.lines],
        fiscal_year=fiscal_year,
        preparer=preparer,
        director=director,
    )
    with clock(bp.vote_date, time(10, 30)):
        fiscal_year = services.fiscal_year_open(user=director, fiscal_year=fiscal_year)
    # The transfers and the amending decisions in order of time (a decision before a
    # transfer of the same day).
    events = sorted(
        [(r.vote_date, 0, n, r) for n, r in enumerate(amending)]
        + [(t.requested_on, 1, n, t) for n, t in enumerate(plan.transfers)],
        key=lambda event: event[:3],
    )
    for _day, _order, _n, planned in events:
        if isinstance(planned, PlannedTransfer):
            _transfer(planned, fiscal_year=fiscal_year, preparer=preparer, director=director)
            continue
        fiscal_year.refresh_from_db()
        with clock(planned.vote_date - timedelta(days=14), time(8, 30)):
            lines.update(
                _create_lines(
                    planned.new_lines, fiscal_year=fiscal_year, preparer=preparer, refs=refs
                )
            )
        _vote(
            planned,
            [(lines[c.code], c.amount, c.justification) for c in planned.changes],
            fiscal_year=fiscal_year,
            preparer=preparer,
            director=director,
        )
    if on_year is not None:
        states = [t.state for t in plan.transfers]
        on_year(
            YearSeeded(
                year=plan.year,
                lines=len(lines),
                revisions=tuple(r.kind for r in plan.revisions),
                transfers=states.count("approved"),
                pending_transfers=states.count("requested"),
                closing=plan.closed,
            )
        )
    if plan.closed:
        if before_closing is not None:
            before_closing(fiscal_year)  # e.g. the year's purchasing, while it is open
        with clock(date(plan.year, 12, 31), time(18, 0)):
            services.fiscal_year_close(user=preparer, fiscal_year=fiscal_year)
    result.created.append(plan.year)
    result.lines += len(lines)
    result.revisions += len(plan.revisions)
    result.transfers += len(plan.transfers)


@transaction.atomic
def seed_demo_budget(
    *,
    preparer,
    director,
    today: date | None = None,
    before_closing: Callable[[FiscalYear], None] | None = None,
    on_year: Callable[[YearSeeded], None] | None = None,
) -> BudgetSeedResult:
    """Load the demo budget's three years; a year that already exists is left alone.

    `preparer` needs prepare_budget, request_transfer and run_closing (the
    section head), `director` submit_budget and approve_transfer (the IT
    director). All or nothing: the years are created in one transaction. Each
    decision is taken with the clock at its planned date (votes, transfers), so the
    ledger follows the plan. `before_closing(fiscal_year)`, when given, runs on each
    past year while it is still open, after its budget and before its closing on
    31 December (dsi_finance.demo plays last year's purchasing there). `on_year`, when
    given, hears of each year once its revisions are voted (before `before_closing`).
    """
    today = today or timezone.localdate()
    result = BudgetSeedResult()
    seed_nomenclature()
    refs = (
        {a.number: a for a in NatureAccount.objects.select_related("chapter")},
        {c.code: c for c in CostCentre.objects.all()},
        {p.code: p for p in Project.objects.all()},
    )
    for plan in demo_plan(today):
        if FiscalYear.objects.filter(year=plan.year).exists():
            result.existing.append(plan.year)
            continue
        _seed_year(
            plan,
            preparer=preparer,
            director=director,
            refs=refs,
            result=result,
            before_closing=before_closing,
            on_year=on_year,
        )
    return result
