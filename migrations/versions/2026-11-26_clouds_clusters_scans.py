"""Cloud accounts, clusters, scan runs and findings; the organisation's scan interval.

Revision ID: bd87be82c6e1
Revises: 06eddc82777a
Create Date: 2026-11-26 00:52:32.569885
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'bd87be82c6e1'
down_revision: str | Sequence[str] | None = '06eddc82777a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cloud_accounts',
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('secret_ciphertext', sa.Text(), nullable=True),
    sa.Column('secret_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('status_message', sa.Text(), nullable=True),
    sa.Column('last_discovery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discovery_warnings', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("provider IN ('aws', 'gcp', 'azure', 'kubeconfig')", name=op.f('ck_cloud_accounts_provider')),
    sa.CheckConstraint("status IN ('pending', 'connected', 'needs_attention', 'error')", name=op.f('ck_cloud_accounts_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cloud_accounts_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_cloud_accounts_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cloud_accounts'))
    )
    with op.batch_alter_table('cloud_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cloud_accounts_org_id'), ['org_id'], unique=False)

    op.create_table('clusters',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=512), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=False),
    sa.Column('kubernetes_version', sa.String(length=64), nullable=True),
    sa.Column('endpoint', sa.String(length=512), nullable=True),
    sa.Column('ca_data', sa.Text(), nullable=True),
    sa.Column('node_count', sa.Integer(), nullable=True),
    sa.Column('cloud_status', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("provider IN ('aws', 'gcp', 'azure', 'kubeconfig')", name=op.f('ck_clusters_provider')),
    sa.CheckConstraint("state IN ('active', 'gone')", name=op.f('ck_clusters_state')),
    sa.ForeignKeyConstraint(['account_id'], ['cloud_accounts.id'], name=op.f('fk_clusters_account_id_cloud_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_clusters_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')),
    sa.UniqueConstraint('account_id', 'external_id', name=op.f('uq_clusters_account_id'))
    )
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clusters_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clusters_org_id'), ['org_id'], unique=False)

    op.create_table('scan_runs',
    sa.Column('cluster_id', sa.Uuid(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('objects_scanned', sa.Integer(), nullable=True),
    sa.Column('api_requests', sa.Integer(), nullable=True),
    sa.Column('findings_count', sa.Integer(), nullable=True),
    sa.Column('monthly_cost_usd', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('by_kind', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_scan_runs_status')),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_scan_runs_cluster_id_clusters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_scan_runs_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_runs'))
    )
    with op.batch_alter_table('scan_runs', schema=None) as batch_op:
        batch_op.create_index('ix_scan_runs_cluster_created', ['cluster_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_runs_org_id'), ['org_id'], unique=False)
        batch_op.create_index('uq_scan_runs_one_active_per_cluster', ['cluster_id'], unique=True, postgresql_where=sa.text("status IN ('queued', 'running')"), sqlite_where=sa.text("status IN ('queued', 'running')"))

    op.create_table('findings',
    sa.Column('cluster_id', sa.Uuid(), nullable=False),
    sa.Column('scan_run_id', sa.Uuid(), nullable=False),
    sa.Column('identity', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('api_version', sa.String(length=100), nullable=False),
    sa.Column('namespace', sa.String(length=253), nullable=True),
    sa.Column('name', sa.String(length=253), nullable=False),
    sa.Column('uid', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('confidence', sa.String(length=8), nullable=False),
    sa.Column('cascade_from', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('monthly_cost_usd', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('cost_basis', sa.Text(), nullable=True),
    sa.Column('counts_in_total', sa.Boolean(), nullable=False),
    sa.Column('security_risk', sa.Boolean(), nullable=False),
    sa.Column('age_days', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_findings_cluster_id_clusters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_findings_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scan_run_id'], ['scan_runs.id'], name=op.f('fk_findings_scan_run_id_scan_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_org_cost', ['org_id', 'monthly_cost_usd'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_scan_run_id'), ['scan_run_id'], unique=False)
        batch_op.create_index('uq_findings_identity', ['cluster_id', 'identity'], unique=True)

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_interval_hours', sa.Integer(), server_default='24', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('scan_interval_hours')

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('uq_findings_identity')
        batch_op.drop_index(batch_op.f('ix_findings_scan_run_id'))
        batch_op.drop_index(batch_op.f('ix_findings_org_id'))
        batch_op.drop_index('ix_findings_org_cost')

    op.drop_table('findings')
    with op.batch_alter_table('scan_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_scan_runs_one_active_per_cluster', postgresql_where=sa.text("status IN ('queued', 'running')"), sqlite_where=sa.text("status IN ('queued', 'running')"))
        batch_op.drop_index(batch_op.f('ix_scan_runs_org_id'))
        batch_op.drop_index('ix_scan_runs_cluster_created')

    op.drop_table('scan_runs')
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clusters_org_id'))
        batch_op.drop_index(batch_op.f('ix_clusters_account_id'))

    op.drop_table('clusters')
    with op.batch_alter_table('cloud_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cloud_accounts_org_id'))

    op.drop_table('cloud_accounts')
