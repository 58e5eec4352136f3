"""The Open edX LMS tables the legacy extraction reads, as the LMS's MariaDB has them.

`DDL` is the `SHOW CREATE TABLE` text of each table on an Open edX (Django migrations applied)
MariaDB: column names, types, nullability, primary/unique keys, secondary indexes and foreign
keys. SQLite gets the same DDL, translated mechanically by `sqlite_ddl` (table options dropped,
`KEY` lines turned into `CREATE INDEX` statements): one declaration, two engines.
"""

from __future__ import annotations

import re

DATABASE = "edxapp"

# Parents before children (foreign keys), the order tables are created and filled in.
DDL: dict[str, str] = {
    "auth_user": """
CREATE TABLE `auth_user` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `password` varchar(128) NOT NULL,
  `last_login` datetime(6) DEFAULT NULL,
  `is_superuser` tinyint(1) NOT NULL,
  `username` varchar(150) NOT NULL,
  `first_name` varchar(150) NOT NULL,
  `last_name` varchar(150) NOT NULL,
  `email` varchar(254) NOT NULL,
  `is_staff` tinyint(1) NOT NULL,
  `is_active` tinyint(1) NOT NULL,
  `date_joined` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `username` (`username`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "auth_userprofile": """
CREATE TABLE `auth_userprofile` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `meta` longtext NOT NULL,
  `courseware` varchar(255) NOT NULL,
  `language` varchar(255) NOT NULL,
  `location` varchar(255) NOT NULL,
  `year_of_birth` int(11) DEFAULT NULL,
  `gender` varchar(6) DEFAULT NULL,
  `level_of_education` varchar(6) DEFAULT NULL,
  `mailing_address` longtext DEFAULT NULL,
  `city` longtext DEFAULT NULL,
  `country` varchar(2) DEFAULT NULL,
  `goals` longtext DEFAULT NULL,
  `allow_certificate` tinyint(1) NOT NULL,
  `bio` varchar(3000) DEFAULT NULL,
  `profile_image_uploaded_at` datetime(6) DEFAULT NULL,
  `user_id` int(11) NOT NULL,
  `phone_number` varchar(50) DEFAULT NULL,
  `state` varchar(2) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `user_id` (`user_id`),
  KEY `auth_userprofile_name_50909f10` (`name`),
  KEY `auth_userprofile_language_8948d814` (`language`),
  KEY `auth_userprofile_location_ca92e4f6` (`location`),
  KEY `auth_userprofile_year_of_birth_6559b9a5` (`year_of_birth`),
  KEY `auth_userprofile_gender_44a122fb` (`gender`),
  KEY `auth_userprofile_level_of_education_93927e04` (`level_of_education`),
  CONSTRAINT `auth_userprofile_user_id_62634b27_fk_auth_user_id`
    FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "course_overviews_courseoverview": """
CREATE TABLE `course_overviews_courseoverview` (
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `version` int(11) NOT NULL,
  `id` varchar(255) NOT NULL,
  `_location` varchar(255) NOT NULL,
  `display_name` longtext DEFAULT NULL,
  `display_number_with_default` longtext NOT NULL,
  `display_org_with_default` longtext NOT NULL,
  `start` datetime(6) DEFAULT NULL,
  `end` datetime(6) DEFAULT NULL,
  `advertised_start` longtext DEFAULT NULL,
  `course_image_url` longtext NOT NULL,
  `social_sharing_url` longtext DEFAULT NULL,
  `end_of_course_survey_url` longtext DEFAULT NULL,
  `certificates_display_behavior` longtext DEFAULT NULL,
  `certificates_show_before_end` tinyint(1) NOT NULL,
  `cert_html_view_enabled` tinyint(1) NOT NULL,
  `has_any_active_web_certificate` tinyint(1) NOT NULL,
  `cert_name_short` longtext NOT NULL,
  `cert_name_long` longtext NOT NULL,
  `lowest_passing_grade` decimal(5,2) DEFAULT NULL,
  `days_early_for_beta` double DEFAULT NULL,
  `mobile_available` tinyint(1) NOT NULL,
  `visible_to_staff_only` tinyint(1) NOT NULL,
  `_pre_requisite_courses_json` longtext NOT NULL,
  `enrollment_start` datetime(6) DEFAULT NULL,
  `enrollment_end` datetime(6) DEFAULT NULL,
  `enrollment_domain` longtext DEFAULT NULL,
  `invitation_only` tinyint(1) NOT NULL,
  `max_student_enrollments_allowed` int(11) DEFAULT NULL,
  `announcement` datetime(6) DEFAULT NULL,
  `catalog_visibility` longtext DEFAULT NULL,
  `course_video_url` longtext DEFAULT NULL,
  `effort` longtext DEFAULT NULL,
  `short_description` longtext DEFAULT NULL,
  `org` longtext NOT NULL,
  `self_paced` tinyint(1) NOT NULL,
  `marketing_url` longtext DEFAULT NULL,
  `eligible_for_financial_aid` tinyint(1) NOT NULL,
  `language` longtext DEFAULT NULL,
  `certificate_available_date` datetime(6) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "student_courseenrollment": """
CREATE TABLE `student_courseenrollment` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `course_id` varchar(255) NOT NULL,
  `created` datetime(6) DEFAULT NULL,
  `is_active` tinyint(1) NOT NULL,
  `mode` varchar(100) NOT NULL,
  `user_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `student_courseenrollment_user_id_course_id_5d34a47f_uniq` (`user_id`,`course_id`),
  KEY `student_courseenrollment_course_id_a6f93be8` (`course_id`),
  KEY `student_courseenrollment_created_79829893` (`created`),
  KEY `student_cou_user_id_b19dcd_idx` (`user_id`,`created`),
  CONSTRAINT `student_courseenrollment_user_id_4263a8e2_fk_auth_user_id`
    FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "courseware_studentmodule": """
CREATE TABLE `courseware_studentmodule` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `module_type` varchar(32) NOT NULL,
  `module_id` varchar(255) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `state` longtext DEFAULT NULL,
  `grade` double DEFAULT NULL,
  `max_grade` double DEFAULT NULL,
  `done` varchar(8) NOT NULL,
  `created` datetime(6) NOT NULL,
  `modified` datetime(6) NOT NULL,
  `student_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `courseware_studentmodule_student_id_module_id_c_1f2a8c5d_uniq`
    (`student_id`,`module_id`,`course_id`),
  KEY `courseware_studentmodule_module_type_f4d6fe0e` (`module_type`),
  KEY `courseware_studentmodule_course_id_0d1ba7e3` (`course_id`),
  KEY `courseware_studentmodule_grade_e1c9f0b8` (`grade`),
  KEY `courseware_studentmodule_created_9976b4ad` (`created`),
  KEY `courseware_studentmodule_modified_f6a0b0cc` (`modified`),
  KEY `courseware_stats` (`module_id`,`grade`,`student_id`),
  KEY `courseware_studentmodule_module_id_1f04b5e7` (`module_id`),
  CONSTRAINT `courseware_studentmodule_student_id_bb8b2d84_fk_auth_user_id`
    FOREIGN KEY (`student_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "student_courseaccessrole": """
CREATE TABLE `student_courseaccessrole` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `org` varchar(64) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  `role` varchar(64) NOT NULL,
  `user_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `student_courseaccessrole_user_id_org_course_id_d4a0f0e0_uniq`
    (`user_id`,`org`,`course_id`,`role`),
  KEY `student_courseaccessrole_org_6d2dbb7a` (`org`),
  KEY `student_courseaccessrole_course_id_60fb355e` (`course_id`),
  KEY `student_courseaccessrole_role_1ac888ea` (`role`),
  CONSTRAINT `student_courseaccessrole_user_id_90cf21fe_fk_auth_user_id`
    FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "django_comment_client_role": """
CREATE TABLE `django_comment_client_role` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(30) NOT NULL,
  `course_id` varchar(255) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `django_comment_client_role_course_id_08a9c1d1` (`course_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
    "django_comment_client_role_users": """
CREATE TABLE `django_comment_client_role_users` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `role_id` int(11) NOT NULL,
  `user_id` int(11) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `django_comment_client_role_users_role_id_user_id_93ab4289_uniq` (`role_id`,`user_id`),
  KEY `django_comment_client_role_users_user_id_5d7991df_fk_auth_user` (`user_id`),
  CONSTRAINT `django_comment_client_role_users_role_id_baec77f6_fk_django_co`
    FOREIGN KEY (`role_id`) REFERENCES `django_comment_client_role` (`id`),
  CONSTRAINT `django_comment_client_role_users_user_id_5d7991df_fk_auth_user`
    FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
""",
}

TABLES: tuple[str, ...] = tuple(DDL)

_KEY_ITEM = re.compile(r"^(?P<unique>UNIQUE )?KEY `(?P<name>[^`]+)` \((?P<columns>.*)\)$")


def mysql_ddl(table: str) -> str:
    """The table's `CREATE TABLE` statement for MariaDB/MySQL, as the LMS has it."""
    return DDL[table].strip()


def _items(body: str) -> list[str]:
    """The comma-separated items of a `CREATE TABLE (...)` body (commas inside parentheses kept)."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in body:
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        depth += (char == "(") - (char == ")")
        current.append(char)
    items.append("".join(current))
    return [" ".join(item.split()) for item in items if item.strip()]


def sqlite_ddl(table: str) -> list[str]:
    """The same table for SQLite: its `CREATE TABLE` and one `CREATE INDEX` per MySQL `KEY`.

    SQLite reads MySQL's backquoted names and column types as they are (`datetime(6)` has
    NUMERIC affinity, so the text written there stays text); `AUTO_INCREMENT` and the table
    options are MySQL's only.
    """
    text = mysql_ddl(table)
    body = text[text.index("(") + 1 : text.rindex(")")]
    columns: list[str] = []
    indexes: list[str] = []
    for item in _items(body):
        key = _KEY_ITEM.match(item)
        if key is None:
            columns.append(item.replace(" AUTO_INCREMENT", ""))
            continue
        unique = "UNIQUE " if key["unique"] else ""
        indexes.append(f"CREATE {unique}INDEX `{key['name']}` ON `{table}` ({key['columns']})")
    create = f"CREATE TABLE `{table}` (\n  " + ",\n  ".join(columns) + "\n)"
    return [create, *indexes]
