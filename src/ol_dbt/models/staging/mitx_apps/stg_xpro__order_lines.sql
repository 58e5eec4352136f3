-- xPro's `ecommerce_line` (one row per order line).
{{ stg_mitx_app__order_lines('xpro') }}
