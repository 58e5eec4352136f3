-- xPro's `ecommerce_discount` (one row per discount code).
{{ stg_mitx_app__discounts('xpro') }}
