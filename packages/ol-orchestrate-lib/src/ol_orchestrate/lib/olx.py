"""The OLX parser: one Open edX course export (a `.tar.gz` or a folder) into its published blocks.

Used by every location that receives course exports (edX.org archives today, the Open edX course
exports and the legacy Open edX location next), so the rules live once:

- `course.xml` names the run (`url_name`), org and course; the run file `course/<run>.xml` is the
  course block. Any element whose only attribute is `url_name` is a pointer: its definition is
  `<tag>/<url_name>.xml`, whose attributes (and children) are the block's. Other elements are
  defined inline.
- Children of containers (course, chapter, sequential, vertical, ... `CONTAINER_TYPES`) are
  blocks; the children of every other block (a problem's markup, a video's sources) are content.
  Unknown or retired block types are kept with their own type.
- `policies/<run>/policy.json` holds course-level settings (`course/<run>`) and per-block
  overrides (`<type>/<url_name>`), applied over the XML attributes.
- `drafts/` is unpublished work: never read for published blocks, only counted.
- Usage keys come from edx-opaque-keys (`course_key.make_usage_key(type, url_name)`), so a legacy
  `Org/Num/Run` course gets `i4x://` keys and a `course-v1:` course `block-v1:` keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element  # the type only; parsing is defusedxml's

from defusedxml import ElementTree as SafeElementTree
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey
from opaque_keys.edx.locator import CourseLocator

# Blocks whose child elements are blocks too. Every other block's children are its content.
CONTAINER_TYPES = frozenset(
    {
        "course",
        "chapter",
        "sequential",
        "vertical",
        "unit",
        "library_content",
        "split_test",
        "conditional",
        "wrapper",
        "randomize",
        "itembank",
        # retired containers still found in old exports
        "timelimit",
        "videosequence",
        "problemset",
        "crowdsource_hinter",
        "section",
        "subsection",
    }
)
# XBlock-runtime attributes that are not block settings.
_IGNORED_ATTRIBUTES = frozenset({"url_name", "xblock-family", "filename"})
# Course export files larger than this are refused (a bomb, not a course).
MAX_EXPORT_BYTES = 2 << 30


class OlxError(ValueError):
    """The export cannot be parsed as a course (no course.xml, a broken run file, ...)."""


@dataclass(frozen=True)
class OlxBlock:
    """One published block: its usage key, type, place in the tree and settings."""

    usage_key: str
    block_type: str
    url_name: str
    display_name: str | None
    parent_usage_key: str | None
    index: int  # depth-first position in the course, the course block is 0
    depth: int  # 0 for the course
    position: int  # 0-based order among its parent's children
    attributes: Mapping[str, Any] = field(default_factory=dict)  # XML attributes + policy

    @property
    def graded(self) -> bool:
        return str(self.attributes.get("graded", "")).lower() == "true"

    @property
    def format(self) -> str | None:
        value = self.attributes.get("format")
        return str(value) if value not in (None, "") else None

    def setting(self, name: str) -> str | None:
        value = self.attributes.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class OlxCourse:
    """A parsed course export: the course key, its settings and published blocks (depth-first)."""

    course_key: str
    org: str
    course: str
    run: str
    settings: Mapping[str, Any]
    grading_policy: Mapping[str, Any]
    blocks: tuple[OlxBlock, ...]
    draft_files: int = 0
    problems: tuple[str, ...] = ()  # pointers that did not resolve, unparsable files

    @property
    def display_name(self) -> str | None:
        return self.blocks[0].display_name if self.blocks else None

    def block_counts(self) -> dict[str, int]:
        """Published blocks by type, most frequent first (then by name)."""
        counts: dict[str, int] = {}
        for block in self.blocks:
            counts[block.block_type] = counts.get(block.block_type, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class OlxFiles:
    """The files of an export by relative path (`course.xml`, `chapter/w1.xml`, ...)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = dict(files)

    @classmethod
    def from_source(cls, source: str | Path | bytes) -> OlxFiles:
        """A folder, a `.tar.gz` file, or the bytes of one. The export's root is the folder
        holding `course.xml` (exports wrap it in a folder such as `course/` or `<run>/`)."""
        if isinstance(source, bytes):
            return cls._from_tar(source)
        path = Path(source)
        if path.is_dir():
            return cls._from_dir(path)
        if path.is_file():
            return cls._from_tar(path.read_bytes())
        raise FileNotFoundError(f"no such course export: {source}")

    @classmethod
    def _from_dir(cls, root: Path) -> OlxFiles:
        found = sorted(root.rglob("course.xml"), key=lambda p: (len(p.parts), str(p)))
        if not found:
            raise OlxError(f"{root}: no course.xml in the export")
        base = found[0].parent
        files = {
            path.relative_to(base).as_posix(): path.read_bytes()
            for path in base.rglob("*")
            if path.is_file() and path.suffix in (".xml", ".json")
        }
        return cls(files)

    @classmethod
    def _from_tar(cls, data: bytes) -> OlxFiles:
        members: dict[str, bytes] = {}
        total = 0
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                for member in archive:
                    if not member.isfile():
                        continue
                    name = PurePosixPath(member.name)
                    if ".." in name.parts or name.suffix not in (".xml", ".json"):
                        continue
                    total += member.size
                    if total > MAX_EXPORT_BYTES:
                        raise OlxError("course export larger than the OLX size limit")
                    handle = archive.extractfile(member)
                    if handle is not None:
                        members[name.as_posix().lstrip("./")] = handle.read()
        except (tarfile.TarError, EOFError, OSError) as error:
            raise OlxError(f"not a readable course export archive: {error}") from error
        roots = sorted(
            (name for name in members if PurePosixPath(name).name == "course.xml"),
            key=lambda name: (len(PurePosixPath(name).parts), name),
        )
        if not roots:
            raise OlxError("no course.xml in the course export archive")
        prefix = str(PurePosixPath(roots[0]).parent)
        prefix = "" if prefix == "." else prefix + "/"
        return cls(
            {name[len(prefix) :]: body for name, body in members.items() if name.startswith(prefix)}
        )

    def get(self, path: str) -> bytes | None:
        return self._files.get(path)

    def names(self) -> Iterator[str]:
        return iter(sorted(self._files))


def parse_olx(source: str | Path | bytes | OlxFiles, *, course_key: str | None = None) -> OlxCourse:
    """Parse one course export into its published blocks.

    `course_key` is the course the export belongs to, as its source writes it (a legacy
    `Org/Num/Run` key gives `i4x://` usage keys); by default the `course-v1:` key of the org,
    course and run in `course.xml`. Raises `OlxError` when there is no course to parse and
    `FileNotFoundError` for a missing path.
    """
    files = source if isinstance(source, OlxFiles) else OlxFiles.from_source(source)
    root = _parse_xml(files, "course.xml")
    if root is None:
        raise OlxError("course.xml is missing or not XML")
    run = root.get("url_name") or root.get("url-name") or ""
    org, number = root.get("org") or "", root.get("course") or ""
    key = _course_key(course_key, org, number, run)
    run = run or str(key.run)
    policy = _json(files, f"policies/{run}/policy.json")
    grading_policy = _json(files, f"policies/{run}/grading_policy.json")
    parser = _TreeParser(files, key, policy)
    course_element = _parse_xml(files, f"course/{run}.xml")
    if course_element is None:
        parser.problems.append(f"course/{run}.xml is missing or not XML; course.xml used instead")
        course_element = root
    attributes = {**dict(course_element.attrib), **dict(root.attrib)}
    parser.visit(course_element, "course", run, attributes, parent=None, depth=0, position=0)
    drafts = sum(
        1 for name in files.names() if name.startswith("drafts/") and name.endswith(".xml")
    )
    return OlxCourse(
        course_key=str(key),
        org=str(key.org),
        course=str(key.course),
        run=str(key.run),
        settings=dict(policy.get(f"course/{run}") or {}),
        grading_policy=grading_policy,
        blocks=tuple(parser.blocks),
        draft_files=drafts,
        problems=tuple(parser.problems),
    )


def _course_key(given: str | None, org: str, number: str, run: str) -> CourseLocator:
    if given:
        try:
            key = CourseKey.from_string(given)
        except InvalidKeyError as error:
            raise OlxError(f"not a course key: {given!r}") from error
        if not isinstance(key, CourseLocator):
            raise OlxError(f"not a course key: {given!r}")
        return key
    try:
        return CourseLocator(org, number, run)
    except (InvalidKeyError, ValueError, TypeError) as error:
        raise OlxError(
            f"course.xml names no valid course (org={org!r}, course={number!r}, run={run!r})"
        ) from error


def _parse_xml(files: OlxFiles, path: str) -> Element | None:
    data = files.get(path)
    if data is None:
        return None
    try:
        element: Element = SafeElementTree.fromstring(data)
    except Exception:  # ParseError and defusedxml's refusals (entities, DTDs) alike
        return None
    return element


def _json(files: OlxFiles, path: str) -> dict[str, Any]:
    data = files.get(path)
    if data is None:
        return {}
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class _TreeParser:
    def __init__(self, files: OlxFiles, key: CourseLocator, policy: Mapping[str, Any]) -> None:
        self.files = files
        self.key = key
        self.policy = policy
        self.blocks: list[OlxBlock] = []
        self.problems: list[str] = []
        self._seen: set[str] = set()

    def _usage_name(self, block_type: str, url_name: str) -> str:
        """The block id a usage key carries: Open edX names a split-Mongo (`course-v1:`) course's
        root block `course`, whatever its run; a legacy course's root is `i4x://Org/Num/course/Run`."""
        if block_type == "course" and not getattr(self.key, "deprecated", False):
            return "course"
        return url_name

    def visit(
        self,
        element: Element,
        block_type: str,
        url_name: str,
        attributes: Mapping[str, Any],
        *,
        parent: str | None,
        depth: int,
        position: int,
    ) -> None:
        usage_key = str(self.key.make_usage_key(block_type, self._usage_name(block_type, url_name)))
        if usage_key in self._seen:
            self.problems.append(f"{block_type}/{url_name} appears twice; kept the first")
            return
        self._seen.add(usage_key)
        settings = {k: v for k, v in attributes.items() if k not in _IGNORED_ATTRIBUTES}
        override = self.policy.get(f"{block_type}/{url_name}")
        if isinstance(override, Mapping):
            settings.update(override)
        display_name = settings.get("display_name")
        self.blocks.append(
            OlxBlock(
                usage_key=usage_key,
                block_type=block_type,
                url_name=url_name,
                display_name=str(display_name) if display_name not in (None, "") else None,
                parent_usage_key=parent,
                index=len(self.blocks),
                depth=depth,
                position=position,
                attributes=settings,
            )
        )
        if block_type not in CONTAINER_TYPES:
            return
        child_position = 0
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                continue
            resolved = self.resolve(child)
            if resolved is None:
                continue
            child_element, child_url_name, child_attributes = resolved
            self.visit(
                child_element,
                child.tag,
                child_url_name,
                child_attributes,
                parent=usage_key,
                depth=depth + 1,
                position=child_position,
            )
            child_position += 1

    def resolve(self, element: Element) -> tuple[Element, str, dict[str, Any]] | None:
        """(definition element, url_name, attributes) of a child: a pointer's file, or inline."""
        tag = element.tag
        url_name = element.get("url_name")
        if url_name and set(element.attrib) <= {"url_name", "xblock-family"}:
            definition = _parse_xml(self.files, f"{tag}/{url_name.replace(':', '/')}.xml")
            if definition is None:
                self.problems.append(
                    f"pointer {tag}/{url_name} has no readable {tag}/{url_name}.xml"
                )
                return element, url_name, dict(element.attrib)
            return definition, url_name, {**dict(definition.attrib), **dict(element.attrib)}
        if not url_name:
            # Studio always writes url_name; hand-written XML may not: a stable id from the place.
            digest = hashlib.sha1(  # noqa: S324  # an id, not security
                f"{tag}:{len(self.blocks)}:{sorted(element.attrib.items())}".encode()
            ).hexdigest()[:20]
            url_name = f"{tag}_{digest}"
        return element, url_name, dict(element.attrib)
