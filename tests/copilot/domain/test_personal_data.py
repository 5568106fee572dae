"""Redaction keeps what a reply needs (dates, amounts, counts, ticket references, video ids) and removes what
nobody outside the ticket may read (passwords, codes, card and bank numbers, national ids, phone numbers,
addresses), in the languages and formats tickets arrive in. Removal before storage takes the secrets alone."""

from __future__ import annotations

import pytest

from copilot.domain.personal_data import masked_text, redact, without_secrets
from copilot.domain.taxonomy import Taxonomy

pytestmark = pytest.mark.unit

# (ticket text, what must survive redaction, what must not)
CASES: list[tuple[str, list[str], list[str]]] = [
    ("my payout from 2026-03-01 is missing", ["2026-03-01"], []),
    ("I reached 1 200 000 views last month", ["1 200 000"], []),
    ("12 000 000 followers and still no badge", ["12 000 000"], []),
    ("I was paid $1,250.50 on March 3, 2026", ["$1,250.50", "March 3, 2026"], []),
    ("recibí R$ 1.500,00 el 05/02/2026", ["R$ 1.500,00", "05/02/2026"], []),
    ("Zahlung von 1.200 EUR am 01.03.2026 fehlt", ["1.200 EUR", "01.03.2026"], []),
    ("saldo Rp 1.500.000 belum masuk sejak 3 Maret", ["1.500.000"], []),
    ("ticket ZD-1042 is still open", ["ZD-1042"], []),
    ("see case #48213377, order 99812345", ["#48213377", "99812345"], []),
    ("the video https://www.tiktok.com/@mila/video/7301234567890123456 was removed", ["7301234567890123456"], []),
    ("video id 7301234567890123456 got a strike", ["7301234567890123456"], []),
    ("my password is Hunter2hunter and I can't log in", ["can't log in"], ["Hunter2hunter"]),
    ("mi contraseña es gato-feliz-22, ayuda", ["ayuda"], ["gato-feliz-22"]),
    ("minha senha é abacaxi#77 e não entra", ["não entra"], ["abacaxi#77"]),
    ("mot de passe: soleil2024! merci", ["merci"], ["soleil2024!"]),
    ("the code is 482913 but it expired", ["expired"], ["482913"]),
    ("el código 774411 no funciona", ["no funciona"], ["774411"]),
    ("card 4539 1488 0343 6467 was charged twice on 2026-03-01", ["2026-03-01"], ["4539 1488 0343 6467"]),
    ("charged on 4111-1111-1111-1111 for $9.99", ["$9.99"], ["4111-1111-1111-1111"]),
    ("send it to DE89 3704 0044 0532 0130 00 please", ["please"], ["DE89 3704 0044 0532 0130 00", "0130 00"]),
    ("IBAN: GB29NWBK60161331926819", [], ["GB29NWBK60161331926819"]),
    ("account number 12345678, sort code 12-34-56", [], ["12345678", "12-34-56"]),
    ("nomor rekening 1234567890 atas nama Mila", ["Mila"], ["1234567890"]),
    ("my SSN is 123-45-6789", [], ["123-45-6789"]),
    ("meu CPF é 123.456.789-09, obrigado", ["obrigado"], ["123.456.789-09"]),
    ("DNI 12345678Z para verificar", ["para verificar"], ["12345678Z"]),
    ("NIK: 3171234567890001 sudah benar", ["sudah benar"], ["3171234567890001"]),
    ("call me on +1 (555) 123-4567 after 5pm", ["after 5pm"], ["555", "4567"]),
    ("mi número es 612 345 678", [], ["612 345 678"]),
    ("appelez-moi au 06 12 34 56 78", [], ["06 12 34 56 78"]),
    ("ligue para (11) 91234-5678 amanhã", ["amanhã"], ["91234-5678"]),
    ("I live at 42 Baker Street, London", ["London"], ["42 Baker Street"]),
    ("vivo en Calle Mayor 5, Madrid", ["Madrid"], ["Calle Mayor 5"]),
    ("moro na Rua das Flores, 123 em Lisboa", ["em Lisboa"], ["Rua das Flores, 123"]),
    ("j'habite au 12 rue de la Paix", [], ["12 rue de la Paix"]),
    ("Meine Adresse: Hauptstraße 12, 10115 Berlin", [], ["Hauptstraße 12"]),
    ("alamat saya Jl. Sudirman No. 5 Jakarta", ["Jakarta"], ["Sudirman No. 5"]),
    ("Via Roma 12, 20121 Milano", [], ["Via Roma 12", "20121 Milano"]),
    ("email me at mila@example.com about ZD-1042", ["ZD-1042"], ["mila@example.com"]),
]


def test_the_table_covers_thirty_strings() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("text", "survive", "gone"), CASES, ids=[c[0][:40] for c in CASES])
def test_redaction_keeps_what_a_reply_needs_and_nothing_personal(
    taxonomy: Taxonomy, text: str, survive: list[str], gone: list[str]
) -> None:
    redacted = redact(text, taxonomy=taxonomy)
    for fact in survive:
        assert fact in redacted, f"{fact!r} was redacted from {text!r}: {redacted!r}"
    for secret in gone:
        assert secret not in redacted, f"{secret!r} survived redaction of {text!r}: {redacted!r}"


def test_removal_before_storage_takes_secrets_with_a_marker_and_keeps_contact_details(taxonomy: Taxonomy) -> None:
    text = (
        "my password is Hunter2hunter, card 4539 1488 0343 6467, IBAN DE89 3704 0044 0532 0130 00; "
        "write to mila@example.com or call +1 555 123 4567 about my $120 payout of 2026-03-01"
    )
    stored = without_secrets(text, taxonomy=taxonomy)
    assert stored == (
        "my password is [password removed], card [card number removed], IBAN [bank account removed]; "
        "write to mila@example.com or call +1 555 123 4567 about my $120 payout of 2026-03-01"
    )
    assert without_secrets(stored, taxonomy=taxonomy) == stored  # removing again changes nothing


def test_a_stored_text_whose_secrets_were_removed_shows_contact_details_masked(taxonomy: Taxonomy) -> None:
    stored = without_secrets("my password is Hunter2hunter, write to mila@example.com", taxonomy=taxonomy)
    assert masked_text(stored, ["pii_shared"], taxonomy) == "my password is [password removed], write to [email hidden]"
    assert masked_text(without_secrets("card 4539 1488 0343 6467", taxonomy=taxonomy), ["pii_shared"], taxonomy) is None
    assert masked_text("nothing to find here", ["pii_shared"], taxonomy) == (
        "[personal data hidden: reveal to read this ticket]"
    )
