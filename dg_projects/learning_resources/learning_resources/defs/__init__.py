"""The learning_resources location's definitions: configuration, one folder per thing configured.

- `catalog/defs.yaml`: MIT Learn's catalog (`LearnCatalog`): where deliveries go, what signs them;
- `sources/<name>/defs.yaml`: one learning catalog each (`LearnSource`): its raw assets
  `learning_resources/raw/<table>`, its API resource, its delivery asset
  `learning_resources/delivery/<etl_source>`;
- `resources.py`: the warehouse the deliveries read the dbt models from.
"""
