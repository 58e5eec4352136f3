-- xPro's `ecommerce_discountredemption` (one row per discount redeemed by an order).
{{ stg_mitx_app__discount_redemptions('xpro') }}
