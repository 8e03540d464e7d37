"""data quality check runs, results and failing rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('check_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('dataset', sa.String(length=64), nullable=False),
    sa.Column('org_code', sa.String(length=6), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('pack_sha256', sa.String(length=64), nullable=False),
    sa.Column('engine', sa.String(length=20), nullable=False),
    sa.Column('run_at', sa.DateTime(), nullable=False),
    sa.Column('run_by', sa.String(length=120), nullable=False),
    sa.Column('rows_checked', sa.BigInteger(), nullable=False),
    sa.Column('rows_quarantined', sa.BigInteger(), nullable=False),
    sa.Column('checks_failed', sa.Integer(), nullable=False),
    sa.Column('checks_errored', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('check_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_runs_submission_id'), ['submission_id'], unique=False)

    op.create_table('check_failures',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.String(length=64), nullable=False),
    sa.Column('source_row', sa.BigInteger(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['check_runs.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'check_id', 'source_row')
    )
    op.create_table('check_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('check_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('context', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('fields', sa.String(length=600), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('failing', sa.BigInteger(), nullable=True),
    sa.Column('denominator', sa.BigInteger(), nullable=True),
    sa.Column('failing_pct', sa.Float(), nullable=True),
    sa.Column('tolerated_pct', sa.Float(), nullable=False),
    sa.Column('captured', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['check_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'check_id', name='uq_check_result')
    )
    with op.batch_alter_table('check_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_results_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('check_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_results_run_id'))

    op.drop_table('check_results')
    op.drop_table('check_failures')
    with op.batch_alter_table('check_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_runs_submission_id'))

    op.drop_table('check_runs')
