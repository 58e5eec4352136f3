-- MITx Online's `ecommerce_product` (one row per product (a course run or a program at a price)).
{{ stg_mitx_app__products('mitxonline') }}
