-- MITx Online's order lines with order, product (course run or program) and discount.
{{ int_mitx_app__order_lines('mitxonline') }}
