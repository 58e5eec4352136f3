-- MITx Online: one row per order line with list price, discount and revenue.
{{ fct_mitx_app__order_line('mitxonline') }}
