"""Forms of the budgets pages: transfers, revisions and the XLSX import."""

from django import forms
