-- xPro's `ecommerce_order` (one row per order).
{{ stg_mitx_app__orders('xpro') }}
