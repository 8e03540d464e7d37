"""which pseudonymisation key made each published version, and each version's own file

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))

    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standard_path', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))

    # Until now a submission had one file: every version published so far read it.
    op.execute(
        'UPDATE publications SET standard_path = '
        '(SELECT submissions.standard_path FROM submissions '
        'WHERE submissions.id = publications.submission_id)'
    )


def downgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('standard_path')

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('key_id')
