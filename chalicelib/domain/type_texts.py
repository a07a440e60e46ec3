"""An issue type's customer-facing texts in the customer's language (issue 23, point 1).

A definition is written in its `default_language`; its `translations` block gives, per language,
the texts a customer reads, keyed like the definition itself:

    translations:
      de:
        name: Beschädigtes Produkt
        fields: {wanted: {label: Was sollen wir tun?, options: {refund: Erstatten Sie mir den Betrag}}}
        steps: {tell_customer: {subject: "...", body: "..."}}

Parsing refuses what could never be shown (an unknown language, field, step or option; a text no
customer reads, such as a step's `name`; a template that does not parse) with its path. A missing
translation is no error: the customer reads that text in the default language, and
`missing_translations` lists it so that admins see what is left. `in_language` is what customer
pages and emails call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain.attachments import AttachmentRules
from chalicelib.domain.fields import FieldSpec
from chalicelib.domain.issue_types import (
    DEFAULT_CUSTOMER_LABELS,
    EMAIL_CUSTOMER,
    HUMAN_TASK,
    PARALLEL,
    RESOLVE,
    WAIT_FOR_CUSTOMER,
    IssueType,
    Step,
)
from chalicelib.domain.problems import DefinitionProblems
from chalicelib.domain.templates import template_problem

#: The languages Caseflow serves customers in, the first the default.
LANGUAGES = ("en", "de", "fr", "es", "tr")
#: Each language's name in itself, as a customer or an admin picks it.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "tr": "Türkçe"}
DEFAULT_LANGUAGE = LANGUAGES[0]
MAX_CUSTOMER_LABEL = 120

#: Texts customers read that no definition writes: a step's label when it has no `customer_label`.
STEP_LABELS: Mapping[str, Mapping[str, str]] = {
    "en": DEFAULT_CUSTOMER_LABELS,
    "de": {
        HUMAN_TASK: "Unser Team kümmert sich darum",
        PARALLEL: "Unsere Teams kümmern sich darum",
        WAIT_FOR_CUSTOMER: "Wir warten auf Ihre Antwort",
        EMAIL_CUSTOMER: "Wir schreiben Ihnen",
        RESOLVE: "Erledigt",
    },
    "fr": {
        HUMAN_TASK: "Notre équipe s'en occupe",
        PARALLEL: "Nos équipes s'en occupent",
        WAIT_FOR_CUSTOMER: "Nous attendons votre réponse",
        EMAIL_CUSTOMER: "Nous vous écrivons",
        RESOLVE: "Résolu",
    },
    "es": {
        HUMAN_TASK: "Nuestro equipo se está ocupando de ello",
        PARALLEL: "Nuestros equipos se están ocupando de ello",
        WAIT_FOR_CUSTOMER: "Esperamos su respuesta",
        EMAIL_CUSTOMER: "Le estamos escribiendo",
        RESOLVE: "Resuelto",
    },
    "tr": {
        HUMAN_TASK: "Ekibimiz konuyla ilgileniyor",
        PARALLEL: "Ekiplerimiz konuyla ilgileniyor",
        WAIT_FOR_CUSTOMER: "Yanıtınızı bekliyoruz",
        EMAIL_CUSTOMER: "Size yazıyoruz",
        RESOLVE: "Çözüldü",
    },
}
#: How a yes/no answer reads, per language.
YES_NO: Mapping[str, tuple[str, str]] = {
    "en": ("Yes", "No"),
    "de": ("Ja", "Nein"),
    "fr": ("Oui", "Non"),
    "es": ("Sí", "No"),
    "tr": ("Evet", "Hayır"),
}
#: The attachments' label of a type that writes none.
ATTACHMENTS_LABELS: Mapping[str, str] = {
    "en": AttachmentRules.label,
    "de": "Fotos oder Dokumente",
    "fr": "Photos ou documents",
    "es": "Fotos o documentos",
    "tr": "Fotoğraflar veya belgeler",
}

_TEMPLATES = ("subject", "body")
#: `results.<step>.<field>_label` in a template: the customer reads that field's option labels.
_QUOTED_LABEL = re.compile(r"results\s*\.\s*([a-z][a-z0-9_]*)\s*\.\s*([a-z][a-z0-9_]*)_label\b")


def parse_default_language(raw: Any, problems: DefinitionProblems) -> str:
    """The definition's `default_language` (absent: English)."""
    if raw is None:
        return DEFAULT_LANGUAGE
    if raw not in LANGUAGES:
        problems.add("default_language", f"must be one of {', '.join(LANGUAGES)}")
        return DEFAULT_LANGUAGE
    return str(raw)


def parse_translations(
    raw: Any, issue_type: IssueType | None, default_language: str, problems: DefinitionProblems
) -> dict[str, dict[str, str]]:
    """The `translations` block as language -> key -> text; every problem added with its path.

    Without `issue_type` (the rest of the definition has problems) only the languages are checked.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("translations", f"must map languages ({', '.join(LANGUAGES[1:])}) to their texts")
        return {}
    found: dict[str, dict[str, str]] = {}
    for language, block in raw.items():
        path = f"translations.{language}"
        if language not in LANGUAGES:
            problems.add(path, f"unknown language; use {', '.join(LANGUAGES)}")
        elif language == default_language:
            problems.add(path, f"{language} is the default language: its texts are the definition's own")
        elif not isinstance(block, Mapping):
            problems.add(path, "must be a mapping of the texts in this language (name, fields, steps, ...)")
        elif issue_type is not None:
            found[language] = _Reader(issue_type, problems).type_block(block, path)
    return {language: texts for language, texts in found.items() if texts}


def customer_texts(issue_type: IssueType) -> dict[str, str]:
    """Every text of the definition a customer reads, by its key in `translations`, in the default language.

    An internal type's name, description and fields are written for our team and are left out;
    so are a task form's options unless a template prints them (`results.<step>.<field>_label`).
    """
    texts: dict[str, str] = {}
    if issue_type.public:
        texts["name"] = issue_type.name
        texts["description"] = issue_type.description
        for spec in issue_type.fields:
            texts.update(_field_texts(spec, f"fields.{spec.id}", with_label=True))
        if issue_type.attachments and issue_type.attachments.label != AttachmentRules.label:
            texts["attachments.label"] = issue_type.attachments.label
    quoted = _quoted_choices(issue_type)
    for step in issue_type.all_steps():
        base = f"steps.{step.id}"
        texts[f"{base}.customer_label"] = step.customer_label
        if step.kind == EMAIL_CUSTOMER:
            texts.update({f"{base}.{key}": getattr(step, key) for key in _TEMPLATES})
        elif step.kind == WAIT_FOR_CUSTOMER:
            texts.update({f"{base}.reminder.{key}": getattr(step, key) for key in _TEMPLATES})
        for spec in step.fields:
            if (step.id, spec.id) in quoted:
                texts.update(_field_texts(spec, f"{base}.fields.{spec.id}", with_label=False))
    if issue_type.acknowledgement:
        texts.update({f"acknowledgement.{key}": getattr(issue_type.acknowledgement, key) for key in _TEMPLATES})
    return {key: text for key, text in texts.items() if text.strip()}


def missing_translations(issue_type: IssueType) -> dict[str, list[str]]:
    """Per language other than the default, the keys of the customer texts it lacks (none: left out)."""
    texts = customer_texts(issue_type)
    missing = {}
    for language in LANGUAGES:
        if language == issue_type.default_language:
            continue
        own = issue_type.translations.get(language, {})
        if left := [key for key in texts if key not in own]:
            missing[language] = left
    return missing


def languages_of(issue_type: IssueType) -> tuple[str, ...]:
    """The default language, then every language the type translates at least one text into."""
    translated = [lang for lang in LANGUAGES if issue_type.translations.get(lang)]
    return (issue_type.default_language, *[lang for lang in translated if lang != issue_type.default_language])


def in_language(issue_type: IssueType, language: str) -> IssueType:
    """The type as a customer reading `language` sees it (the default language's texts where one is missing).

    Every text a customer reads is replaced: name, description, field labels, help and options, the
    attachments' label, steps' customer labels (a step without one gets the kind's built-in label in
    `language`), email and reminder subjects and bodies, the acknowledgement, and Yes/No. A language
    Caseflow does not serve (or None) reads the default language.
    """
    if language not in LANGUAGES:
        language = issue_type.default_language
    own = issue_type.translations.get(language, {}) if language != issue_type.default_language else {}

    def text(key: str, default: str) -> str:
        return own.get(key, default)

    attachments = issue_type.attachments
    if attachments is not None:
        builtin = attachments.label == AttachmentRules.label
        label = text("attachments.label", ATTACHMENTS_LABELS[language] if builtin else attachments.label)
        attachments = replace(attachments, label=label)
    acknowledgement = issue_type.acknowledgement
    if acknowledgement is not None:
        acknowledgement = replace(
            acknowledgement,
            **{key: text(f"acknowledgement.{key}", getattr(acknowledgement, key)) for key in _TEMPLATES},
        )
    return replace(
        issue_type,
        name=text("name", issue_type.name),
        description=text("description", issue_type.description),
        fields=tuple(_translated_field(spec, f"fields.{spec.id}", text, language) for spec in issue_type.fields),
        steps=tuple(_translated_step(step, text, language) for step in issue_type.steps),
        attachments=attachments,
        acknowledgement=acknowledgement,
    )


def _translated_step(step: Step, text: Callable[[str, str], str], language: str) -> Step:
    base = f"steps.{step.id}"
    message = f"{base}.reminder" if step.kind == WAIT_FOR_CUSTOMER else base
    label = text(f"{base}.customer_label", step.customer_label) or STEP_LABELS[language][step.kind]
    return replace(
        step,
        customer_label=label,
        subject=text(f"{message}.subject", step.subject),
        body=text(f"{message}.body", step.body),
        fields=tuple(_translated_field(spec, f"{base}.fields.{spec.id}", text, language) for spec in step.fields),
        branches=tuple(tuple(_translated_step(s, text, language) for s in branch) for branch in step.branches),
    )


def _translated_field(spec: FieldSpec, base: str, text: Callable[[str, str], str], language: str) -> FieldSpec:
    return replace(
        spec,
        label=text(f"{base}.label", spec.label),
        help=text(f"{base}.help", spec.help),
        options=tuple(replace(o, label=text(f"{base}.options.{o.value}", o.label)) for o in spec.options),
        yes_no_words=YES_NO[language],
    )


def _field_texts(spec: FieldSpec, base: str, with_label: bool) -> dict[str, str]:
    texts = {f"{base}.label": spec.label, f"{base}.help": spec.help} if with_label else {}
    texts.update({f"{base}.options.{o.value}": o.label for o in spec.options})
    return texts


def _templates(issue_type: IssueType) -> Iterator[str]:
    for step in (*issue_type.all_steps(), *([issue_type.acknowledgement] if issue_type.acknowledgement else [])):
        if step.kind in (EMAIL_CUSTOMER, WAIT_FOR_CUSTOMER):
            yield step.subject
            yield step.body


def _quoted_choices(issue_type: IssueType) -> set[tuple[str, str]]:
    """The (step, field) choices whose labels a customer template prints."""
    found = set()
    for source in _templates(issue_type):
        for step_id, field_id in _QUOTED_LABEL.findall(source):
            try:
                spec = next((f for f in issue_type.step(step_id).fields if f.id == field_id), None)
            except KeyError:
                continue
            if spec is not None and spec.options:
                found.add((step_id, field_id))
    return found


class _Reader:
    """Reads one language's block, keeping the texts that exist and adding a problem for the rest."""

    def __init__(self, issue_type: IssueType, problems: DefinitionProblems):
        self.issue_type = issue_type
        self.problems = problems
        self.texts: dict[str, str] = {}

    def type_block(self, block: Mapping[str, Any], path: str) -> dict[str, str]:
        allowed = ("name", "description", "fields", "attachments", "steps", "acknowledgement")
        for key, value in _items(block):
            where = f"{path}.{key}"
            if key not in allowed:
                self._refuse(where, f"customers do not read a type's {key!r}; translate {', '.join(allowed)}")
            elif key in ("name", "description", "fields") and not self.issue_type.public:
                self._refuse(where, f"an internal type's {key} is written for our team; customers never read it")
            elif key == "fields":
                self._each(value, where, "field ids", self._field)
            elif key == "steps":
                self._each(value, where, "step ids", self._step)
            elif key == "attachments":
                if self.issue_type.attachments is None:
                    self._refuse(where, "the type takes no attachments")
                else:
                    self._block(value, where, "attachments", {"label": self._leaf})
            elif key == "acknowledgement":
                if self.issue_type.acknowledgement is None:
                    self._refuse(where, "the type has no acknowledgement of its own to translate")
                else:
                    self._block(value, where, "acknowledgement", dict.fromkeys(_TEMPLATES, self._template))
            else:
                self._leaf(value, where, key)
        return self.texts

    def _field(self, field_id: str, value: Any, path: str) -> None:
        spec = self.issue_type.field(field_id)
        if spec is None:
            known = ", ".join(f.id for f in self.issue_type.fields) or "none"
            self._refuse(path, f"no customer field {field_id!r}; fields: {known}")
            return
        readers = {"label": self._leaf, "help": self._leaf, "options": self._options(spec)}
        self._block(value, path, "field", readers, f"fields.{field_id}")

    def _step(self, step_id: str, value: Any, path: str) -> None:
        try:
            step = self.issue_type.step(step_id)
        except KeyError:
            known = ", ".join(s.id for s in self.issue_type.all_steps())
            self._refuse(path, f"no step {step_id!r}; steps: {known}")
            return
        readers: dict[str, Callable[[Any, str, str], None]] = {"customer_label": self._label}
        if step.kind == EMAIL_CUSTOMER:
            readers.update(dict.fromkeys(_TEMPLATES, self._template))
        if step.kind == WAIT_FOR_CUSTOMER:
            readers["reminder"] = lambda raw, where, key: self._block(
                raw, where, "reminder", dict.fromkeys(_TEMPLATES, self._template), key
            )
        if step.kind == HUMAN_TASK:
            readers["fields"] = lambda raw, where, key: self._each(
                raw, where, "field ids", lambda fid, v, p: self._step_field(step, fid, v, p)
            )
        self._block(value, path, f"{step.kind} step", readers, f"steps.{step_id}")

    def _step_field(self, step: Step, field_id: str, value: Any, path: str) -> None:
        spec = next((f for f in step.fields if f.id == field_id), None)
        if spec is None:
            self._refuse(path, f"step {step.id!r} has no field {field_id!r}")
        elif not spec.options:
            self._refuse(
                path,
                "an agent's form is written for our team; customers read only the options "
                "a template prints with results.<step>.<field>_label",
            )
        elif (step.id, field_id) not in _quoted_choices(self.issue_type):
            self._refuse(path, f"customers never read it: no template prints results.{step.id}.{field_id}_label")
        else:
            self._block(
                value,
                path,
                "field of an agent's form",
                {"options": self._options(spec)},
                f"steps.{step.id}.fields.{field_id}",
            )

    def _options(self, spec: FieldSpec) -> Callable[[Any, str, str], None]:
        def read(raw: Any, path: str, key: str) -> None:
            if not spec.options:
                self._refuse(path, f"{spec.id} has no options")
                return
            self._each(
                raw, path, "option values", lambda value, text, where: self._option(spec, value, text, where, key)
            )

        return read

    def _option(self, spec: FieldSpec, value: str, text: Any, path: str, base: str) -> None:
        if not any(o.value == value for o in spec.options):
            hint = (
                " (YAML reads an unquoted yes/no/on/off as true/false: quote it)" if value in ("true", "false") else ""
            )
            known = ", ".join(o.value for o in spec.options)
            self._refuse(path, f"no option {value!r} of {spec.id}; options: {known}{hint}")
            return
        self._leaf(text, path, f"{base}.{value}")

    # Generic readers: `key` is the text's key in the catalogue (`fields.store.label`).

    def _each(self, raw: Any, path: str, what: str, read: Callable[[str, Any, str], None]) -> None:
        if not isinstance(raw, Mapping):
            self._refuse(path, f"must be a mapping keyed by {what}")
            return
        for key, value in _items(raw):
            read(key, value, f"{path}.{key}")

    def _block(
        self,
        raw: Any,
        path: str,
        what: str,
        readers: Mapping[str, Callable[[Any, str, str], None]],
        key: str | None = None,
    ) -> None:
        base = key or path.split(".", 2)[2]
        if not isinstance(raw, Mapping):
            self._refuse(path, f"must be a mapping of {', '.join(readers)}")
            return
        for name, value in _items(raw):
            read = readers.get(name)
            if read is None:
                self._refuse(
                    f"{path}.{name}",
                    f"customers do not read {name!r} of this {what}; translate {', '.join(readers)}"
                    + ("; a step's name is for our team, customers read its customer_label" if name == "name" else ""),
                )
            else:
                read(value, f"{path}.{name}", f"{base}.{name}")

    def _leaf(self, raw: Any, path: str, key: str, template: bool = False) -> None:
        # A text the default language leaves empty (a help, a step's own label) may still be written
        # here: that language shows it, the others show none (or the built-in label).
        if not isinstance(raw, str) or not raw.strip():
            self._refuse(path, "must be text")
        elif template and (problem := template_problem(raw)):
            self._refuse(path, problem)
        else:
            self.texts[key] = raw if template else raw.strip()  # a template is kept as written, as the default's

    def _label(self, raw: Any, path: str, key: str) -> None:
        if isinstance(raw, str) and len(raw.strip()) > MAX_CUSTOMER_LABEL:
            self._refuse(path, f"must be text of at most {MAX_CUSTOMER_LABEL} characters")
        else:
            self._leaf(raw, path, key)

    def _template(self, raw: Any, path: str, key: str) -> None:
        self._leaf(raw, path, key, template=True)

    def _refuse(self, path: str, message: str) -> None:
        self.problems.add(path, message)


def _items(raw: Mapping[Any, Any]) -> Iterator[tuple[str, Any]]:
    """A mapping's entries with text keys (YAML reads `yes:` as True: such a key is named as JSON has it)."""
    for key, value in raw.items():
        if isinstance(key, bool):
            yield ("true" if key else "false"), value
        else:
            yield str(key), value
